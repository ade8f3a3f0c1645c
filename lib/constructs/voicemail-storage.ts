import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { parseWholeNumber, SettingError, VOICEMAIL_RETENTION_DAYS } from '../../lambda/core/settings';

/** Where the recording callback keeps recordings (`voicemail/<line>/<RecordingSid>.mp3`); the functions' S3 grants name it. */
export const RECORDINGS_PREFIX = 'voicemail/';

/** How long the recordings bucket's access logs are kept (the site's access logs keep as long). */
const ACCESS_LOG_DAYS = 90;

/** An e-mail address as SNS takes it: one `@`, a dotted domain, no spaces or list separators. */
const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;

/**
 * The addresses told of new voicemails (context voicemailNotifyEmails): `a@example.com,b@example.com` or a list;
 * each once; [] when unset. Throws a SettingError naming `name` on anything that is not an address.
 */
export function parseNotifyEmails(raw: unknown, name: string): string[] {
  if (raw === undefined || raw === null || (Array.isArray(raw) ? raw.length === 0 : String(raw).trim() === '')) return [];
  const list = (Array.isArray(raw) ? raw.map(String) : String(raw).split(',')).map((e) => e.trim()).filter((e) => e !== '');
  const bad = list.find((e) => e.length > 254 || !EMAIL.test(e));
  if (list.length === 0 || bad !== undefined) {
    throw new SettingError(`${name} must be e-mail addresses like team@example.com,boss@example.com, got "${bad ?? String(raw)}"`);
  }
  return [...new Set(list)];
}

export interface VoicemailStorageProps {
  /** Days a recording is kept (VOICEMAIL_RETENTION_DAYS bounds). @default VOICEMAIL_RETENTION_DAYS.default (30) */
  readonly retentionDays?: number;
  /** E-mail subscriptions of the new-voicemail topic (each recipient confirms by e-mail). @default none */
  readonly notifyEmails?: readonly string[];
  /**
   * What happens to the recordings bucket (and its access logs) when it leaves the stack.
   * @default RemovalPolicy.RETAIN — see the class comment.
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Voicemail: where the recordings are kept, and who is told of a new one.
 *
 * - The recordings bucket: private (all public access blocked, TLS enforced, bucket-owner objects), S3-managed
 *   encryption, no versioning (a deleted voicemail is gone, not kept as a noncurrent version), and a lifecycle
 *   that deletes every recording `retentionDays` after it was written (the registry's TTL forgets the voicemail
 *   item as long after) and aborts incomplete uploads. Access is logged to a bucket of its own (as the site's).
 *   The page plays a recording from a short-lived presigned GET URL in an `<audio>` element: a media request,
 *   which needs no CORS, so the bucket has no CORS rule (one naming the site's origin would also make a cycle:
 *   bucket → distribution → CSP `media-src` → bucket).
 * - RETAIN, not DESTROY: recordings are personal data under a retention promise. Retained, the bucket keeps its
 *   lifecycle, so every recording is still deleted on schedule after the stack is gone (the registry tables,
 *   which point at them, are retained too); DESTROY would fail on a non-empty bucket, or need the auto-delete
 *   custom resource. Delete the emptied bucket by hand after the retention.
 * - The new-voicemail topic: encrypted with the AWS managed key `alias/aws/sns` (its key policy lets this account's
 *   principals use it through SNS, so publishers need no KMS grant), TLS required of publishers, and an e-mail
 *   subscription per `notifyEmails` address. The message names the line, caller and length, never the audio.
 */
export class VoicemailStorage extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly topic: sns.Topic;
  /** `https://<bucket>.s3.<region>.<suffix>`: the origin of the presigned URLs (virtual-hosted, regional), for the CSP. */
  public readonly bucketOrigin: string;
  public readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: VoicemailStorageProps = {}) {
    super(scope, id);
    // Checked here with the functions' rule (lambda/core/settings.ts): a bad value fails synth.
    this.retentionDays =
      parseWholeNumber(props.retentionDays, 'voicemailRetentionDays', VOICEMAIL_RETENTION_DAYS) ?? VOICEMAIL_RETENTION_DAYS.default;
    const emails = parseNotifyEmails(props.notifyEmails ?? [], 'voicemailNotifyEmails');
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    // Object ownership left to the CDK: S3 logging writes through a bucket policy (cdk.json's
    // serverAccessLogsUseBucketPolicy) or, without that flag, through the log-delivery ACL, which needs ObjectWriter.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // They name recordings and the browsers that fetched them: kept as long as the site's logs, no longer.
      lifecycleRules: [{ expiration: Duration.days(ACCESS_LOG_DAYS), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy,
    });

    this.bucket = new s3.Bucket(this, 'Recordings', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [
        { id: 'ExpireRecordings', expiration: Duration.days(this.retentionDays), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'recordings/',
      removalPolicy,
    });
    const stack = Stack.of(this);
    this.bucketOrigin = `https://${this.bucket.bucketName}.s3.${stack.region}.${stack.urlSuffix}`;

    this.topic = new sns.Topic(this, 'NewVoicemail', {
      displayName: 'Softphone voicemail',
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    for (const email of emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
  }
}
