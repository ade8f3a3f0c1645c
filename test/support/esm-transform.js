/**
 * Jest transform for the ES-module-only packages jest.config.js lets through (jose 6 ships no CommonJS build):
 * ts-jest runs the tests as CommonJS, and jest's module system cannot `require` an ES module. esbuild, which
 * bundles the same files into the Lambda bundles, rewrites them to CommonJS, file by file.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { transformSync, version } = require('esbuild');

const SELF = readFileSync(__filename);

module.exports = {
  process(source, file) {
    const { code, map } = transformSync(source, { format: 'cjs', loader: 'js', target: 'node20', sourcefile: file, sourcemap: 'external' });
    return { code, map };
  },
  getCacheKey(source, file) {
    return createHash('sha256').update(SELF).update(version).update(file).update('\0').update(source).digest('hex');
  },
};
