/**
 * The page API's Lambda authorizer (API Gateway TOKEN authorizer, identity source `Authorization`): the Twilio
 * Access Token the softphone already holds, `Bearer <jwt>`, verified with the API key secret
 * (lambda/core/access-token-verify.ts). Allowed: a policy for the page's routes of this stage (so the cached
 * answer serves both) and `context.identity`, which the request templates pass on. Refused: the error
 * `Unauthorized`, which API Gateway answers with 401; any other error (Secrets Manager down) it answers 500. A bad signature triggers one rate-limited re-read of the
 * secret first (the API key may just have been rotated).
 */
import { verifyAccessToken } from '../core/access-token-verify';
import { describeError } from '../core/errors';
import { isDependencyFault } from '../ports';
import { type Handler, type HandlerDeps, requireDeps } from './deps';
import { countDependencyFailure } from './dependency-failure';

export interface AuthorizerResult {
  principalId: string;
  policyDocument: { Version: '2012-10-17'; Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow'; Resource: string }[] };
  context: { identity: string };
}

/** API Gateway's message for "no or bad credentials" (answered 401 Unauthorized). */
export const UNAUTHORIZED = 'Unauthorized';

/**
 * `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path…>` → the same API and stage, any method on
 * the page's paths (`/softphone/*`).
 */
export function pageRoutesArn(methodArn: string): string {
  const [apiArn, stage] = methodArn.split('/');
  return `${apiArn}/${stage}/*/softphone/*`;
}

export function createPageAuthorizerHandler(deps: HandlerDeps): Handler<AuthorizerResult> {
  const { credentials } = requireDeps(deps, 'page authorizer', ['credentials']);
  const now = deps.clock ?? (() => new Date());
  return async (event, { log, metrics }) => {
    const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
    const header = typeof e.authorizationToken === 'string' ? e.authorizationToken : '';
    const methodArn = typeof e.methodArn === 'string' ? e.methodArn : '';
    const token = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header)?.[1] ?? '';
    const nowSeconds = Math.floor(now().getTime() / 1000);
    try {
      let verdict = verifyAccessToken(token, await credentials(), nowSeconds);
      if (!verdict.ok && verdict.reason === 'bad signature') {
        const fresh = await credentials.refresh?.();
        if (fresh) verdict = verifyAccessToken(token, fresh, nowSeconds);
      }
      if (!verdict.ok) {
        log.warn('page request refused', { reason: verdict.reason });
        throw new Error(UNAUTHORIZED);
      }
      return {
        principalId: verdict.identity,
        policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: pageRoutesArn(methodArn) }] },
        context: { identity: verdict.identity },
      };
    } catch (err) {
      // A dependency fault is not the caller's fault: any error but `Unauthorized` makes API Gateway answer 500
      // (the page says "temporarily unavailable" instead of asking to sign in again).
      if (isDependencyFault(err)) {
        log.error('dependency failure', { error: describeError(err) });
        countDependencyFailure(metrics, err);
      }
      throw err;
    }
  };
}
