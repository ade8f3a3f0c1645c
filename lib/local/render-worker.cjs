'use strict';
// The worker of lib/local/template-renderer.ts: renders request templates of large bodies off the local app's
// event loop, with the same renderer (lib/vtl, loaded through tsx as the app itself is).
const { parentPort } = require('node:worker_threads');
require('tsx/cjs/api').register();
const { renderRequestTemplate } = require('../vtl/index.ts');

parentPort.on('message', ({ id, template, request }) => {
  try {
    parentPort.postMessage({ id, output: renderRequestTemplate(template, request) });
  } catch (err) {
    parentPort.postMessage({ id, error: { name: err?.name, message: String(err?.message ? err.message : err) } });
  }
});
