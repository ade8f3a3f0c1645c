'use strict';
// The thread of `listenDynalite({ thread: true })` (lib/local/dynalite-server.ts): dynalite and its request guard
// on an event loop of their own. Their JavaScript dependencies load before tsx hooks `require` (several times
// faster); then our TypeScript loads through tsx, as the app itself does.
const { parentPort, workerData } = require('node:worker_threads');
require('dynalite');
require('@smithy/signature-v4');
require('tsx/cjs/api').register();
const { listenDynalite } = require('./dynalite-server.ts');

listenDynalite(workerData).then(
  (server) => {
    parentPort.on('message', (m) => {
      if (m === 'close') server.close().then(() => parentPort.postMessage('closed'));
    });
    parentPort.postMessage({ endpoint: server.endpoint });
  },
  (err) => parentPort.postMessage({ error: String(err?.message ?? err) }),
);
