/**
 * How long browsers and CloudFront may keep the softphone's files: one policy for the deployed site
 * (lib/constructs/softphone-site.ts) and the local app (lib/local/app.ts).
 */
import { ASSETS_DIR } from '../../client/build-layout';

/** For content-hashed files (`assets/app-<hash>.js`): a changed file has a new name, so a copy never goes stale. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** For `index.html` and `config.json`: every load asks whether there is a newer one. */
export const REVALIDATE_CACHE_CONTROL = 'no-cache';

/** The Cache-Control of a site path (`/assets/…` immutable, everything else revalidated). */
export function cacheControlFor(sitePath: string): string {
  return sitePath.startsWith(`/${ASSETS_DIR}/`) ? IMMUTABLE_CACHE_CONTROL : REVALIDATE_CACHE_CONTROL;
}
