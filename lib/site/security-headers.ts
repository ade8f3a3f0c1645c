/**
 * The softphone's security headers: one definition for the deployed site (CloudFront's response headers
 * policy, lib/constructs/softphone-site.ts) and the local app (lib/local/static-site.ts), so the page runs
 * under the same Content-Security-Policy and frame protection in both.
 */

/** Twilio Voice SDK endpoints: signalling (wss), sounds and insights (https). */
export const TWILIO_VOICE_SOURCES: readonly string[] = ['https://*.twilio.com', 'wss://*.twilio.com'];

/**
 * The Content-Security-Policy of the softphone: its own scripts and styles only; XHR/WebSocket to the API and
 * to Twilio; Twilio's sounds and `mediaOrigins` (the voicemail recordings' bucket) as media; nothing may frame it.
 */
export function contentSecurityPolicy(apiOrigins: readonly string[], mediaOrigins: readonly string[] = []): string {
  const twilio = TWILIO_VOICE_SOURCES.join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${[...apiOrigins, twilio].join(' ')}`,
    `media-src 'self' blob: data: ${[TWILIO_VOICE_SOURCES[0], ...mediaOrigins].join(' ')}`,
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export const FRAME_OPTIONS = 'DENY';
export const REFERRER_POLICY = 'strict-origin-when-cross-origin';
/** The microphone for this origin only; nothing else a page could ask for. */
export const PERMISSIONS_POLICY = 'microphone=(self), camera=(), geolocation=(), payment=()';
/** Two years, subdomains included (HTTPS only: the deployed site). */
export const HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60;

/** Every page response's security headers (HSTS only where the site is served over HTTPS). */
export function securityHeaders(apiOrigins: readonly string[], opts: { https: boolean; mediaOrigins?: readonly string[] }): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(apiOrigins, opts.mediaOrigins),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': FRAME_OPTIONS,
    'Referrer-Policy': REFERRER_POLICY,
    'Permissions-Policy': PERMISSIONS_POLICY,
    ...(opts.https ? { 'Strict-Transport-Security': `max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains` } : {}),
  };
}
