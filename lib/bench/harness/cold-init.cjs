'use strict';
// Cold init probe: `node cold-init.cjs <module>` — loads the module the way the Lambda runtime loads a
// handler file (require) in this fresh process and prints {"ms": <load time>} on stdout.
const file = process.argv[2];
const t0 = performance.now();
const mod = require(file);
const ms = performance.now() - t0;
if (!mod || typeof mod.handler !== 'function') {
  process.stderr.write(`${file} exports no handler function\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify({ ms })}\n`);
