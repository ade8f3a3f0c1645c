/**
 * The stack's RegistryUpgrade custom resource (CloudFormation calls the function directly, no provider
 * framework): on Create and Update it copies the first release's devices into the registry of lines
 * (lambda/adapters/registry-upgrade.ts, idempotent), then answers CloudFormation at the request's pre-signed
 * ResponseURL. A failure answers FAILED with the reason, so `cdk deploy` stops and rolls back rather than
 * leaving devices behind. Delete does nothing: the tables are retained.
 *
 * The request and response follow the AWS CloudFormation custom resource contract ("Custom resource request
 * objects" / "response objects" in the CloudFormation User Guide): the answer is an HTTPS PUT of JSON with an
 * empty Content-Type.
 */
import { describeError } from '../core/errors';
import type { Handler, HandlerDeps } from './deps';
import { requireDeps } from './deps';

export interface CustomResourceRequest {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
}

export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data?: Record<string, string>;
}

export const UPGRADE_PHYSICAL_ID = 'registry-upgrade-v2';

function parseRequest(event: unknown): CustomResourceRequest {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const str = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : '');
  const type = str('RequestType');
  if ((type !== 'Create' && type !== 'Update' && type !== 'Delete') || !/^https:\/\//.test(str('ResponseURL'))) {
    throw new Error('not a CloudFormation custom resource request');
  }
  return {
    RequestType: type,
    ResponseURL: str('ResponseURL'),
    StackId: str('StackId'),
    RequestId: str('RequestId'),
    LogicalResourceId: str('LogicalResourceId'),
    ...(str('PhysicalResourceId') ? { PhysicalResourceId: str('PhysicalResourceId') } : {}),
  };
}

export interface RegistryUpgradeOptions {
  /** How the answer reaches CloudFormation (default: HTTPS PUT to the ResponseURL); tests pass their own. */
  respond?: (url: string, body: string) => Promise<void>;
}

export function createRegistryUpgradeHandler(deps: HandlerDeps, opts: RegistryUpgradeOptions = {}): Handler<CustomResourceResponse> {
  const { upgradeRegistry } = requireDeps(deps, 'registry upgrade', ['upgradeRegistry']);
  const respond =
    opts.respond ??
    (async (url: string, body: string) => {
      const res = await fetch(url, { method: 'PUT', headers: { 'content-type': '' }, body, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`CloudFormation's response URL answered ${res.status}`);
    });
  return async (event, { log }) => {
    const request = parseRequest(event);
    const response: CustomResourceResponse = {
      Status: 'SUCCESS',
      PhysicalResourceId: request.PhysicalResourceId ?? UPGRADE_PHYSICAL_ID,
      StackId: request.StackId,
      RequestId: request.RequestId,
      LogicalResourceId: request.LogicalResourceId,
    };
    if (request.RequestType !== 'Delete') {
      try {
        const report = await upgradeRegistry();
        log.info('registry upgraded', { copied: report.copied, alreadyThere: report.alreadyThere, skipped: report.skipped.length });
        for (const s of report.skipped) log.warn('device not copied', s);
        response.Data = { copied: String(report.copied), alreadyThere: String(report.alreadyThere), skipped: String(report.skipped.length) };
      } catch (err) {
        log.error('registry upgrade failed', { error: describeError(err) });
        response.Status = 'FAILED';
        const { name, message } = describeError(err);
        response.Reason = `Registry upgrade failed: ${name}: ${message}. See the function's log.`.slice(0, 1000);
      }
    }
    await respond(request.ResponseURL, JSON.stringify(response));
    return response;
  };
}
