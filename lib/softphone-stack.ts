import { CfnOutput, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { STACK_OUTPUT_IDS, type StackOutputId } from '../lambda/core/settings';
import { GATEWAY_RESPONSES, ROUTES, routeById } from './api/routes';
import { RegistryTables } from './constructs/registry-tables';
import { SoftphoneApi, type SoftphoneApiProps } from './constructs/softphone-api';
import { SoftphoneFunctions, type FunctionSettings } from './constructs/softphone-functions';
import { SoftphoneSite } from './constructs/softphone-site';
import { TwilioSecret } from './constructs/twilio-secret';

export interface TwilioSoftphoneStackProps extends StackProps {
  /**
   * `Access-Control-Allow-Origin` of every API response.
   * @default the softphone site's CloudFront URL (`*` only when asked for explicitly)
   */
  readonly allowedOrigin?: string;
  /** Reference this existing Secrets Manager secret instead of creating an empty one. */
  readonly twilioSecretName?: string;
  /** Function settings: token lifetime, public base URL (custom domain), allowed destination countries. */
  readonly functionSettings?: FunctionSettings;
  /** Throttling of the browser's routes and of Twilio's webhooks. @default 10/s burst 20; 50/s burst 100 */
  readonly throttle?: SoftphoneApiProps['throttle'];
}

/**
 * The Twilio softphone on AWS — wiring only, each concern is its own construct:
 *
 *   browser ──HTTPS──▶ Site (CloudFront → private S3: the softphone + config.json)
 *      │
 *      └─ token ─┐
 *   Twilio ──────┴──▶ Api (REST `twilio_on_aws`/prod, VTL from lib/api/routes.ts)
 *                        ▼
 *                     Functions (one per route) ──▶ Registry (DynamoDB) + TwilioSecret (Secrets Manager)
 */
export class TwilioSoftphoneStack extends Stack {
  constructor(scope: Construct, id: string, props: TwilioSoftphoneStackProps = {}) {
    super(scope, id, {
      description: 'Twilio softphone: browser softphone (CloudFront + S3), REST API with mapping templates, Lambda, DynamoDB',
      ...props,
    });

    const registry = new RegistryTables(this, 'Registry');
    const twilio = new TwilioSecret(this, 'TwilioCredentials', { existingSecretName: props.twilioSecretName });
    const functions = new SoftphoneFunctions(this, 'Functions', {
      routes: ROUTES,
      devicesTable: registry.devicesTable,
      attemptsTable: registry.attemptsTable,
      twilioSecret: twilio.secret,
      twilioSecretId: twilio.secretId,
      settings: props.functionSettings,
    });

    // The API answers the site's origin and the site's CSP allows the API's: the site is declared after the
    // API, so the default allowed origin is read lazily (CloudFormation sees no cycle: only the API's
    // methods depend on the distribution, the distribution only on the RestApi's id).
    let site: SoftphoneSite | undefined;
    const api = new SoftphoneApi(this, 'Api', {
      routes: ROUTES,
      gatewayResponses: GATEWAY_RESPONSES,
      functionFor: (routeId) => functions.functionFor(routeId),
      allowedOrigin: props.allowedOrigin ?? Lazy.string({ produce: () => site?.url }),
      throttle: props.throttle,
    });

    const publicBaseUrl = props.functionSettings?.publicBaseUrl?.replace(/\/+$/, '');
    site = new SoftphoneSite(this, 'Site', {
      apiBaseUrl: api.baseUrl,
      apiOrigins: [api.origin, ...(publicBaseUrl ? [new URL(publicBaseUrl).origin] : [])],
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
      DevicesTableName: { value: registry.devicesTable.tableName, description: 'Device registry table' },
      AttemptsTableName: { value: registry.attemptsTable.tableName, description: 'Sign-in attempts table' },
      TwilioSecretName: {
        value: twilio.secretName,
        description: 'Secrets Manager secret for the Twilio credentials (put the JSON value with put-secret-value)',
      },
    };
    // Exactly the ids twilio:setup and doctor read (STACK_OUTPUT_IDS).
    for (const id of STACK_OUTPUT_IDS) new CfnOutput(this, id, outputs[id]);
  }
}
