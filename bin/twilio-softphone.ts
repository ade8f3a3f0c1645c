/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this file with tsx).
 *
 * Context keys (`-c key=value` or cdk.json "context"):
 *   stackName                    stack name                                   default TwilioSoftphoneStack
 *   allowedOrigin                Access-Control-Allow-Origin of the API       default the softphone's CloudFront URL
 *                                ("*" allows any origin: only when asked)
 *   twilioSecretName             use this existing Secrets Manager secret     default: the stack creates an empty one
 *   tokenTtlSeconds              capability token lifetime, 60..86400         default 3600
 *   allowedDestinationCountries  outgoing-call countries, e.g. JP,US          default the caller's own country
 *   publicBaseUrl                base URL Twilio calls when a custom domain   default the execute-api URL
 *                                fronts the API, e.g. https://voice.example.com/prod
 *   throttleRateLimit            token API requests per second                default 10
 *   throttleBurstLimit           token API burst                              default 20
 *   webhookThrottleRateLimit     each Twilio webhook's requests per second    default 50
 *   webhookThrottleBurstLimit    each Twilio webhook's burst                  default 100
 *   callTimeLimitSeconds         longest outgoing call, 60..14400             default 14400 (4 hours)
 *   voicemailRetentionDays       days recordings and voicemails are kept,     default 30
 *                                1..3650 (then deleted from S3 and DynamoDB)
 *   voicemailNotifyEmails        e-mail addresses told of new voicemails,     default none
 *                                e.g. team@example.com,boss@example.com (each confirms the SNS subscription)
 *   callLogRetentionDays         days the call log keeps a call, 1..3650      default 90
 *                                (then the calls table's TTL forgets it)
 *   maxCallsPerDevice            simultaneous outgoing calls of one device,   default 2
 *                                1..10 (internal calls count too)
 *   maxCallsPerLine              simultaneous outgoing calls of a line's      default 10
 *                                devices together, 1..100
 *   alarmEmails                  e-mail addresses the alarms are sent to,     default none
 *                                e.g. ops@example.com,boss@example.com (each confirms the SNS subscription;
 *                                the AlarmTopicArn output takes other subscriptions)
 *   twilioEdge                   the softphone's Twilio edge(s), in order     default roaming
 *                                of preference, e.g. tokyo or ashburn,dublin (config.json edge)
 *   detailedTracing              Powertools Tracer in every function: an      default false
 *                                X-Ray subsegment per AWS and Twilio call (costs each cold start ~25%)
 *
 * The stack is environment-agnostic: synth needs no AWS account, credentials or network. cdk-nag's
 * AwsSolutions pack runs as a policy-validation plugin, so synth fails on any unacknowledged finding.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TwilioSoftphoneStack } from '../lib/softphone-stack';
import { stackPropsFromContext } from '../lib/config/context';

const app = new App();
const { stackName, ...props } = stackPropsFromContext((key) => app.node.tryGetContext(key));
new TwilioSoftphoneStack(app, stackName, { stackName, ...props });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
