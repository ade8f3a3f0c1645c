/**
 * "What if": esbuild plugins that simulate code changes the benchmark recommends, so their effect on bundle
 * size and cold init is measured in the same run before anyone changes the code (or, for a change made, what
 * undoing it would cost). Bench only — never part of the deployed bundling settings (lib/lambda-bundling.ts).
 */
import * as path from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * libphonenumber-js `min` metadata instead of `max` (the package's `max` entry or its `max/metadata` JSON, which
 * lambda/core/destination-policy.ts imports): enough to normalise numbers (parse, isPossible, E.164); only the
 * destination policy needs `max` (number types: premium rate, shared cost). What a function would save if its
 * path did without the number types.
 */
export function minPhoneMetadata(): Plugin {
  return {
    name: 'what-if-min-phone-metadata',
    setup(build) {
      build.onResolve({ filter: /^libphonenumber-js\/max(\/metadata)?$/ }, (args) =>
        build.resolve(args.path.replace('/max', '/min'), { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer }),
      );
    },
  };
}

/**
 * The TwiML writer's library (xmlbuilder, 59 KB, under lambda/core/twiml-builder.ts) replaced by a stub that only
 * loads: what a hand-written XML writer would save a webhook's cold start. Cold init only: a bundle built with it
 * is never invoked.
 */
export function withoutXmlbuilder(): Plugin {
  return {
    name: 'what-if-without-xmlbuilder',
    setup(build) {
      build.onResolve({ filter: /^xmlbuilder$/ }, () => ({ path: 'xmlbuilder', namespace: 'what-if' }));
      build.onLoad({ filter: /^xmlbuilder$/, namespace: 'what-if' }, () => ({
        loader: 'js',
        contents: 'const node = { dec: () => node, ele: () => node, end: () => "<Response/>" }; exports.create = () => node;',
      }));
    },
  };
}

/**
 * A choice's alternative rather than a recommendation: the token route's Access Token signed by Twilio's
 * `AccessToken` (jsonwebtoken, with semver, jws, jwa, lodash.*, ms) instead of jws alone. lib/bench/twilio-access-token.ts
 * stands in for lambda/core/access-token.ts wherever a handler imports it.
 */
export function twilioAccessToken(): Plugin {
  const alternative = path.join(__dirname, 'twilio-access-token.ts');
  return {
    name: 'choice-twilio-access-token',
    setup(build) {
      // The alternative re-exports the rest of the real module: its own import resolves as usual.
      build.onResolve({ filter: /(^|\/)core\/access-token$/ }, (args) => (args.importer === alternative ? undefined : { path: alternative }));
    },
  };
}
