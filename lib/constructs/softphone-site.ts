import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Duration, DockerImage, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { ASSETS_DIR } from '../../client/build-layout';
import { IMMUTABLE_CACHE_CONTROL, REVALIDATE_CACHE_CONTROL } from '../site/cache-control';
import { siteEdge } from '../site/config-json';
import { contentSecurityPolicy, HSTS_MAX_AGE_SECONDS, PERMISSIONS_POLICY } from '../site/security-headers';

/** The repository root (the client sources are in `client/`). */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface SoftphoneSiteProps {
  /** `config.json`'s `apiBaseUrl`: the API stage URL without a trailing slash. */
  readonly apiBaseUrl: string;
  /** `config.json`'s `edge`: the Twilio edge(s) the page connects through, in order of preference. @default the page's (roaming) */
  readonly edge?: readonly string[];
  /** Origins the page may call besides its own and Twilio's (the API's `https://<id>.execute-api…`). */
  readonly apiOrigins: readonly string[];
  /** Origins the page may play media from (the voicemail recordings' presigned URLs). @default none */
  readonly mediaOrigins?: readonly string[];
  /**
   * The client sources, built at synth time with `client/build.ts --outdir <asset dir>` (local esbuild, no Docker).
   * @default `<repo>/client`
   */
  readonly clientDir?: string;
}

/**
 * The browser softphone, served over HTTPS (a secure context: browsers give the microphone to nothing else):
 * - a private S3 bucket (all public access blocked, TLS enforced, S3-managed encryption, access logs);
 * - CloudFront with origin access control (the only reader of the bucket), HTTPS only (HTTP redirects), and a
 *   response headers policy with HSTS, a Content-Security-Policy, nosniff, frame denial, a referrer policy and a
 *   Permissions-Policy that grants the microphone to this origin only;
 * - the client built at synth time: its content-hashed `assets/` immutable for a year; `index.html` and
 *   `config.json` = `{"apiBaseUrl": …, "edge": …}` with `no-cache` and invalidated on every deployment.
 */
export class SoftphoneSite extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** `https://<distribution>.cloudfront.net` — the site's origin, no trailing slash. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: SoftphoneSiteProps) {
    super(scope, id);
    const logs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging writes with ACLs.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'site-bucket/',
      // Only build output lives here: the stack owns it entirely.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Softphone: CSP (API, Twilio voice, recordings), HSTS, nosniff, no framing, microphone for this origin only',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(props.apiOrigins, props.mediaOrigins), override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.seconds(HSTS_MAX_AGE_SECONDS), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Permissions-Policy', value: PERMISSIONS_POLICY, override: true }],
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Twilio softphone',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    this.url = `https://${this.distribution.distributionDomainName}`;
    const distribution = Validations.of(this.distribution);
    distribution.acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the minimum ' +
        'protocol; a custom domain with its own certificate (TLSv1.2_2021) is a deployment choice outside this stack.',
    });
    distribution.acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'The softphone is for a team that may travel; no country is excluded (the API decides who may call where).',
    });
    distribution.acknowledge({
      id: 'AwsSolutions-CFR2',
      reason: 'Static files only, no WAF web ACL (cost); the API behind it is throttled and authenticated.',
    });

    const client = s3deploy.Source.asset(props.clientDir ?? path.join(REPO_ROOT, 'client'), {
      bundling: {
        // Never used: local bundling always succeeds or throws.
        image: DockerImage.fromRegistry('none'),
        local: { tryBundle: (outputDir) => buildClient(outputDir) },
      },
    });
    // Content-hashed assets (`assets/app-<hash>.js`): cached for a year, never revalidated. Old ones stay
    // (prune off) so a page loaded just before a deployment still gets its files.
    const assets = new s3deploy.BucketDeployment(this, 'Assets', {
      sources: [client],
      exclude: ['*'],
      include: [`${ASSETS_DIR}/*`],
      destinationBucket: this.bucket,
      cacheControl: [s3deploy.CacheControl.fromString(IMMUTABLE_CACHE_CONTROL)],
      prune: false,
      memoryLimit: 512,
    });
    // index.html and config.json: revalidated on every load (and invalidated at CloudFront), so a
    // redeployment reaches every browser at once.
    const deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: [client, s3deploy.Source.jsonData('config.json', { apiBaseUrl: props.apiBaseUrl, ...siteEdge(props.edge) })],
      exclude: [`${ASSETS_DIR}/*`],
      destinationBucket: this.bucket,
      cacheControl: [s3deploy.CacheControl.fromString(REVALIDATE_CACHE_CONTROL)],
      distribution: this.distribution,
      distributionPaths: ['/', '/index.html', '/config.json'],
      memoryLimit: 512,
    });
    deployment.node.addDependency(assets);
    acknowledgeDeploymentHandler(this, deployment);
  }
}

/** Runs `client/build.ts --outdir <outputDir>` with this Node.js and tsx; throws with its output on failure. */
function buildClient(outputDir: string): boolean {
  const result = spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(REPO_ROOT, 'client', 'build.ts'), '--outdir', outputDir], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) {
    throw new Error(`client/build.ts failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`);
  }
  return true;
}

/**
 * The CDK-provided handlers (BucketDeployment, auto-delete objects) are not ours to change; acknowledge their
 * findings one by one (granular IAM4/IAM5 findings name the exact policy, action or resource), with reasons.
 */
function acknowledgeDeploymentHandler(scope: SoftphoneSite, deployment: s3deploy.BucketDeployment): void {
  const stack = Stack.of(scope);
  const handlerRole = Validations.of(deployment.handlerRole);
  handlerRole.acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The CDK BucketDeployment handler (CDK-managed) writes its own logs with AWSLambdaBasicExecutionRole.',
  });
  const siteBucketArn = `<${stack.getLogicalId(scope.bucket.node.defaultChild as s3.CfnBucket)}.Arn>`;
  const copyReason =
    'The CDK BucketDeployment handler (CDK-managed) reads the uploaded asset from the CDK assets bucket and syncs it ' +
    'into the site bucket (GetBucket*/GetObject*/List* there, PutObject*/DeleteObject*/Abort* on site bucket objects).';
  for (const finding of [
    'Action::s3:GetBucket*',
    'Action::s3:GetObject*',
    'Action::s3:List*',
    'Action::s3:Abort*',
    'Action::s3:DeleteObject*',
    'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
    `Resource::${siteBucketArn}/*`,
  ]) {
    handlerRole.acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: copyReason });
  }
  handlerRole.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'cloudfront:CreateInvalidation/GetInvalidation after a deployment; CloudFront invalidation actions take no narrower resource in this CDK handler.',
  });
  for (const child of stack.node.children) {
    if (child.node.id.startsWith('Custom::CDKBucketDeployment')) {
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'A CDK-provided custom resource handler; its runtime is chosen and updated by aws-cdk-lib.',
      });
    }
  }
}
