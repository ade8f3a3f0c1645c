import { CfnOutput, CustomResource, Duration, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { STACK_OUTPUT_IDS, type StackOutputId } from '../lambda/core/settings';
import { GATEWAY_RESPONSES, ROUTES, routeById } from './api/routes';
import { CALLS_BY_LINE_INDEX } from '../lambda/adapters/registry-schema';
import { Operations } from './constructs/operations';
import { RegistryTables } from './constructs/registry-tables';
import { SoftphoneApi, type SoftphoneApiProps } from './constructs/softphone-api';
import { SoftphoneFunctions, type FunctionSettings } from './constructs/softphone-functions';
import { SoftphoneSite } from './constructs/softphone-site';
import { TwilioSecret } from './constructs/twilio-secret';
import { VoicemailStorage } from './constructs/voicemail-storage';

/**
 * The registry's schema version. The RegistryUpgrade custom resource runs when it is created (the deployment
 * that brings lines) or when this changes, never on an ordinary deployment.
 */
export const REGISTRY_SCHEMA_VERSION = 2;

export interface TwilioSoftphoneStackProps extends StackProps {
  /**
   * `Access-Control-Allow-Origin` of every API response.
   * @default the softphone site's CloudFront URL (`*` only when asked for explicitly)
   */
  readonly allowedOrigin?: string;
  /** Reference this existing Secrets Manager secret instead of creating an empty one. */
  readonly twilioSecretName?: string;
  /**
   * Function settings: token lifetime, public base URL (custom domain), destination countries, call time limit,
   * voicemail and call-log retention, simultaneous outgoing calls per device and per line.
   */
  readonly functionSettings?: FunctionSettings;
  /** E-mail addresses subscribed to the new-voicemail topic (each confirms by e-mail). @default none */
  readonly voicemailNotifyEmails?: readonly string[];
  /** Throttling of the browser's routes and of Twilio's webhooks. @default 10/s burst 20; 50/s burst 100 */
  readonly throttle?: SoftphoneApiProps['throttle'];
  /** E-mail addresses subscribed to the alarm topic (each confirms by e-mail). @default none */
  readonly alarmEmails?: readonly string[];
  /** The Twilio edge(s) the softphone connects through, in order of preference (config.json `edge`). @default roaming */
  readonly twilioEdge?: readonly string[];
}

/**
 * The Twilio softphone on AWS — wiring only, each concern is its own construct:
 *
 *   browser ──HTTPS──▶ Site (CloudFront → private S3: the softphone + config.json)
 *      │
 *      └─ token; voicemails, directory, calls (page authorizer) ─┐
 *   Twilio (calls, their status callbacks, recordings) ──────────┴──▶ Api (REST `twilio_on_aws`/prod, VTL from lib/api/routes.ts)
 *                        ▼
 *                     Functions (one per route, the authorizer, the registry upgrade)
 *                        ──▶ Registry (DynamoDB: lines, sign-in attempts, the call log) + TwilioSecret (Secrets Manager)
 *                            + Voicemail (S3 recordings, SNS)
 *   Operations: alarms on all of the above (SNS topic, e-mail) and one dashboard; X-Ray on the stage and functions.
 */
export class TwilioSoftphoneStack extends Stack {
  constructor(scope: Construct, id: string, props: TwilioSoftphoneStackProps = {}) {
    super(scope, id, {
      description: 'Twilio softphone: browser softphone (CloudFront + S3), REST API with mapping templates, Lambda, DynamoDB, voicemail',
      ...props,
    });

    const registry = new RegistryTables(this, 'Registry');
    const twilio = new TwilioSecret(this, 'TwilioCredentials', { existingSecretName: props.twilioSecretName });
    const voicemail = new VoicemailStorage(this, 'Voicemail', {
      retentionDays: props.functionSettings?.voicemailRetentionDays,
      notifyEmails: props.voicemailNotifyEmails,
    });

    // The API answers the site's origin, the site's CSP allows the API's and the recordings', and the
    // notifications link the site: the site is declared last, so its URL is read lazily. CloudFormation sees no
    // cycle: the API's methods and the recording function depend on the distribution; the distribution only on
    // the RestApi's id and the recordings bucket's name (which is why the bucket has no CORS rule naming the site).
    let site: SoftphoneSite | undefined;
    const siteUrl = Lazy.string({ produce: () => site?.url });
    const functions = new SoftphoneFunctions(this, 'Functions', {
      routes: ROUTES,
      registryTable: registry.linesTable,
      attemptsTable: registry.attemptsTable,
      legacyDevicesTable: registry.legacyDevicesTable,
      callsTable: registry.callsTable,
      twilioSecret: twilio,
      recordingsBucket: voicemail.bucket,
      voicemailTopic: voicemail.topic,
      softphoneUrl: siteUrl,
      settings: { ...props.functionSettings, voicemailRetentionDays: voicemail.retentionDays },
    });

    const api = new SoftphoneApi(this, 'Api', {
      routes: ROUTES,
      gatewayResponses: GATEWAY_RESPONSES,
      functionFor: (routeId) => functions.functionFor(routeId),
      pageAuthorizer: functions.functionFor('pageAuthorizer'),
      allowedOrigin: props.allowedOrigin ?? siteUrl,
      throttle: props.throttle,
    });

    const publicBaseUrl = props.functionSettings?.publicBaseUrl?.replace(/\/+$/, '');
    site = new SoftphoneSite(this, 'Site', {
      apiBaseUrl: api.baseUrl,
      apiOrigins: [api.origin, ...(publicBaseUrl ? [new URL(publicBaseUrl).origin] : [])],
      mediaOrigins: [voicemail.bucketOrigin],
      ...(props.twilioEdge ? { edge: props.twilioEdge } : {}),
    });

    // The upgrade from the first release: CloudFormation invokes the function itself (it answers at the
    // request's ResponseURL; no provider framework), once, when this resource is created.
    const upgrade = new CustomResource(this, 'RegistryUpgrade', {
      resourceType: 'Custom::RegistryUpgrade',
      serviceToken: functions.functionFor('registryUpgrade').functionArn,
      properties: { schemaVersion: REGISTRY_SCHEMA_VERSION },
      // The function's 5 minutes, and Lambda's two retries of an asynchronous invocation that timed out.
      serviceTimeout: Duration.minutes(20),
    });
    upgrade.node.addDependency(registry.linesTable, registry.legacyDevicesTable);
    // The handlers that read lines go live only once the devices are in them: no sign-in finds an empty registry.
    for (const route of ROUTES) functions.functionFor(route.id).node.addDependency(upgrade);

    // The first release's devices table is read once, by the upgrade at deploy time: not watched.
    const operations = new Operations(this, 'Operations', {
      api: api.restApi,
      routes: ROUTES,
      functions: functions.byId,
      tables: [
        { name: 'lines', table: registry.linesTable },
        { name: 'attempts', table: registry.attemptsTable },
        { name: 'calls', table: registry.callsTable, indexes: [CALLS_BY_LINE_INDEX] },
      ],
      alarmEmails: props.alarmEmails,
    });

    // Twilio signs the URL it calls: with a custom domain (publicBaseUrl) that is the one to configure.
    const webhookUrl = (id: 'callIncoming' | 'callOutgoing'): string =>
      publicBaseUrl ? `${publicBaseUrl}${routeById(id).path}` : api.urlFor(routeById(id));

    const outputs: Record<StackOutputId, { value: string; description: string }> = {
      ApiUrl: { value: api.baseUrl, description: 'API base URL (stage prod), config.json apiBaseUrl' },
      TokenUrl: { value: api.urlFor(routeById('token')), description: 'Capability token endpoint (POST JSON)' },
      IncomingCallWebhookUrl: {
        value: webhookUrl('callIncoming'),
        description: "Twilio phone number -> Voice 'A call comes in' webhook (HTTP POST)",
      },
      OutgoingCallWebhookUrl: { value: webhookUrl('callOutgoing'), description: 'Twilio TwiML App -> Voice Request URL (HTTP POST)' },
      SoftphoneUrl: { value: site.url, description: 'The softphone (HTTPS)' },
      DevicesTableName: { value: registry.linesTable.tableName, description: 'Registry of lines and devices (device/line CLIs --table)' },
      AttemptsTableName: { value: registry.attemptsTable.tableName, description: 'Sign-in attempts table' },
      TwilioSecretName: {
        value: twilio.secretName,
        description: 'Secrets Manager secret for the Twilio credentials (put the JSON value with put-secret-value)',
      },
      CallsTableName: {
        value: registry.callsTable.tableName,
        description: 'Call log (calls kept for the call-log retention; outgoing calls in progress per device and line)',
      },
    };
    // Exactly the ids twilio:setup and doctor read (STACK_OUTPUT_IDS), then what only people read.
    for (const id of STACK_OUTPUT_IDS) new CfnOutput(this, id, outputs[id]);
    new CfnOutput(this, 'RecordingsBucketName', {
      value: voicemail.bucket.bucketName,
      description: 'Voicemail recordings (deleted after the retention)',
    });
    new CfnOutput(this, 'VoicemailTopicArn', {
      value: voicemail.topic.topicArn,
      description: 'New-voicemail notifications (SNS; add e-mail subscriptions here or by context)',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: operations.topic.topicArn,
      description: 'Alarm notifications (SNS; subscribe by context alarmEmails, each address confirms by e-mail)',
    });
    new CfnOutput(this, 'DashboardName', {
      value: operations.dashboard.dashboardName,
      description: 'CloudWatch dashboard: calls, sign-ins, refusals, errors, latency, throttles',
    });
  }
}
