import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface TwilioSecretProps {
  /**
   * Reference an existing secret by name instead of creating one (context `twilioSecretName`).
   * @default - the stack creates an empty secret
   */
  readonly existingSecretName?: string;
}

/**
 * The Twilio credentials: ONE Secrets Manager secret holding a JSON object
 * `{"accountSid", "apiKeySid", "apiKeySecret", "authToken", "twimlAppSid"}` (`lambda/core/credentials.ts`).
 *
 * The value never appears in the template or the cloud assembly: the stack either creates the secret
 * EMPTY (no `SecretString`, no `GenerateSecretString`; the owner then runs
 * `aws secretsmanager put-secret-value`), or references an existing secret by name. The functions read it
 * at run time (`TWILIO_SECRET_ID`), once per container.
 */
export class TwilioSecret extends Construct {
  public readonly secret: secretsmanager.ISecret;
  /** What the functions pass to GetSecretValue (`TWILIO_SECRET_ID`): the ARN, or the name when referenced. */
  public readonly secretId: string;
  /** The secret's name, for the `TwilioSecretName` output and `put-secret-value`. */
  public readonly secretName: string;
  /** The ARN IAM policies name: the created secret's, or `<name>-??????` (Secrets Manager's random suffix). */
  private readonly policyArn: string;

  constructor(scope: Construct, id: string, props: TwilioSecretProps = {}) {
    super(scope, id);
    if (props.existingSecretName) {
      this.secret = secretsmanager.Secret.fromSecretNameV2(this, 'Secret', props.existingSecretName);
      this.secretId = props.existingSecretName;
      this.secretName = props.existingSecretName;
      this.policyArn = Stack.of(this).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${props.existingSecretName}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      return;
    }
    const secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'Twilio credentials for the softphone, JSON: {"accountSid","apiKeySid","apiKeySecret","authToken","twimlAppSid"}. ' +
        'Put the value with `aws secretsmanager put-secret-value`; it is never part of the template.',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The L2 asks Secrets Manager to generate a random value when none is given; we want an empty secret
    // (CloudFormation creates a secret without a version when both properties are absent).
    (secret.node.defaultChild as secretsmanager.CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret holds credentials issued by Twilio (API key, auth token); Secrets Manager cannot rotate them. ' +
        'They are rotated in the Twilio console and put again with put-secret-value.',
    });
    this.secret = secret;
    this.secretId = secret.secretArn;
    this.secretName = secret.secretName;
    this.policyArn = secret.secretArn;
  }

  /**
   * GetSecretValue on this secret, the one call the functions make (Powertools' SecretsProvider); unlike
   * `grantRead`, no DescribeSecret. The created secret uses the account's `aws/secretsmanager` key, which needs no
   * KMS grant; an existing secret under a customer managed key needs that key's policy to allow the roles.
   */
  public grantGetSecretValue(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.policyArn] }));
  }
}
