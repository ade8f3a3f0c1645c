/**
 * The local gateway's limit on invocations at once (`maxConcurrency`, lib/local/api-gateway.ts): the local app
 * keeps sign-ins (each a scrypt in libuv's thread pool) fewer than the pool's threads. Driven by hand: a stand-in
 * token handler that answers when the test says, so every step is an order of events, never a time.
 */
import type { Handler } from '../../lambda/handlers/deps';
import { RecordingMetrics } from '../../lambda/adapters/recording-metrics';
import type { RouteId } from '../../lib/api/routes';
import { type ApiRequest, createLocalGateway } from '../../lib/local/api-gateway';
import { jsonLineLog } from '../../lib/local/log';
import { createTemplateRenderer } from '../../lib/local/template-renderer';

/** A token handler whose invocations wait for the test; `started` resolves each time one begins. */
function heldHandler() {
  const running: { number: string; release: () => void }[] = [];
  const invoked: string[] = [];
  let maxRunning = 0;
  let onStart: (() => void) | undefined;
  const handler: Handler = (event) =>
    new Promise((resolve) => {
      const number = (event as { twilioPhoneNumber: string }).twilioPhoneNumber;
      invoked.push(number);
      running.push({ number, release: () => resolve({ success: true, capabilityToken: 't', identity: number }) });
      maxRunning = Math.max(maxRunning, running.length);
      onStart?.();
    });
  return {
    handler,
    invoked,
    maxRunning: () => maxRunning,
    running: () => running.map((r) => r.number),
    /** Resolves once `count` invocations are running. */
    runningCount: (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (running.length >= count) {
            onStart = undefined;
            resolve();
          }
        };
        onStart = check;
        check();
      }),
    /** Answers the oldest running invocation. */
    releaseOldest: () => running.shift()!.release(),
  };
}

function gateway(handler: Handler, max: number) {
  const lines: string[] = [];
  const renderer = createTemplateRenderer();
  const handle = createLocalGateway({
    handlers: { token: handler } as unknown as Record<RouteId, Handler>,
    authorizers: { page: handler },
    allowedOrigin: () => 'http://127.0.0.1:3000',
    log: jsonLineLog((l) => lines.push(l), { level: 'WARN', service: 'test' }),
    metrics: new RecordingMetrics(),
    renderer,
    maxConcurrency: { token: max },
  });
  return { handle, lines, close: () => renderer.close() };
}

function tokenRequest(number: string, extra: Partial<ApiRequest> = {}): ApiRequest {
  return {
    method: 'POST',
    path: '/prod/twilio/retrieve_capability_token',
    query: {},
    headers: { Host: '127.0.0.1:3000', 'Content-Type': 'application/json' },
    readBody: async () => JSON.stringify({ twilioPhoneNumber: number, deviceSecret: 'secret' }),
    sourceIp: '127.0.0.1',
    requestId: `req-${number}`,
    ...extra,
  };
}

test('at most maxConcurrency invocations run at once; the others wait their turn, first come first served', async () => {
  const h = heldHandler();
  const g = gateway(h.handler, 2);
  try {
    const numbers = ['+1', '+2', '+3', '+4', '+5'];
    const answers = numbers.map((n) => g.handle(tokenRequest(n)));
    await h.runningCount(2);
    expect(h.running()).toEqual(['+1', '+2']);
    for (let done = 0; done < numbers.length; done++) {
      h.releaseOldest();
      if (done + 2 < numbers.length) await h.runningCount(2);
    }
    const responses = await Promise.all(answers);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(responses.map((r) => JSON.parse(r.body).identity)).toEqual(numbers);
    expect(h.invoked).toEqual(numbers);
    expect(h.maxRunning()).toBe(2);
  } finally {
    await g.close();
  }
});

test('a request whose caller hung up while it waited is not invoked; the next in line is', async () => {
  const h = heldHandler();
  const g = gateway(h.handler, 1);
  try {
    const first = g.handle(tokenRequest('+1'));
    await h.runningCount(1);
    const gone = g.handle(tokenRequest('+2', { callerGone: () => true }));
    const third = g.handle(tokenRequest('+3', { callerGone: () => false }));
    h.releaseOldest();
    await h.runningCount(1);
    expect(h.running()).toEqual(['+3']);
    h.releaseOldest();
    expect((await first).statusCode).toBe(200);
    expect((await gone).statusCode).toBe(504);
    expect((await third).statusCode).toBe(200);
    expect(h.invoked).toEqual(['+1', '+3']);
    expect(g.lines.some((l) => l.includes('hung up while waiting for its turn'))).toBe(true);
  } finally {
    await g.close();
  }
});
