/**
 * "What if": esbuild plugins that simulate code changes the benchmark recommends, so their effect on bundle
 * size and cold init is measured in the same run before anyone changes the code. Bench only — never part of
 * the deployed bundling settings (lib/lambda-bundling.ts).
 */
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
 * The AWS SDK's default credential chain (`@aws-sdk/credential-provider-node`: SSO, STS, web identity, INI,
 * process, IMDS, login — with their nested clients) replaced by the environment variables the Lambda runtime
 * always sets for the function's role.
 */
export function envOnlyAwsCredentials(): Plugin {
  return {
    name: 'what-if-env-only-aws-credentials',
    setup(build) {
      build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({ path: 'env-credentials', namespace: 'what-if' }));
      build.onLoad({ filter: /^env-credentials$/, namespace: 'what-if' }, () => ({
        loader: 'js',
        contents: `export const defaultProvider = () => async () => {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey) throw new Error('AWS credentials missing from the environment');
  return { accessKeyId, secretAccessKey, sessionToken };
};`,
      }));
    },
  };
}

/**
 * `jsonwebtoken` (with semver, jws, jwa, lodash.*, ms) replaced by an HS256/384/512 signer on node:crypto —
 * what signing the Access Token ourselves would cost. Twilio's AccessToken still builds the payload. (Besides
 * its load time, jsonwebtoken 9 first tries `createPrivateKey()` on a string secret, which throws, on every
 * sign: ~0.3 ms per token.)
 */
export function nodeCryptoJwt(): Plugin {
  return {
    name: 'what-if-node-crypto-jwt',
    setup(build) {
      build.onResolve({ filter: /^jsonwebtoken$/ }, () => ({ path: 'jwt', namespace: 'what-if' }));
      build.onLoad({ filter: /^jwt$/, namespace: 'what-if' }, () => ({
        loader: 'js',
        contents: `const { createHmac } = require('node:crypto');
const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
exports.sign = function sign(payload, secret, options) {
  const algorithm = options.algorithm || 'HS256';
  const iat = Math.floor(Date.now() / 1000);
  const header = Object.assign({ alg: algorithm, typ: 'JWT' }, options.header);
  const body = Object.assign({}, payload, { iat, exp: iat + options.expiresIn, iss: options.issuer, sub: options.subject });
  const input = part(header) + '.' + part(body);
  return input + '.' + createHmac('sha' + algorithm.slice(2), secret).update(input).digest('base64url');
};`,
      }));
    },
  };
}
