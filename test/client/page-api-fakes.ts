/**
 * Stand-ins the tests of the page's polled panels share (call-log.test.ts, voicemail.test.ts): a PageApi whose
 * answers are scripted, timers the test fires by hand, and a flush of pending promise callbacks.
 */
import { PageApi } from '../../client/src/page-api';
import type { FetchLike } from '../../client/src/token-client';

export const API_BASE = 'http://127.0.0.1:3000/prod';

/** Lets the promise callbacks (and the ones they start) run. */
export const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** A PageApi on `API_BASE` (token `jwt`) answering each request with the next of `answers` (an Error: fetch throws it). */
export function scriptedPageApi(answers: Array<{ status: number; body: unknown } | Error>) {
  const sent: Array<{ url: string; body: unknown; auth: string }> = [];
  const fetch: FetchLike = async (url, init) => {
    sent.push({ url, body: JSON.parse(init.body), auth: init.headers.Authorization });
    const next = answers.shift();
    if (!next) throw new Error('no answer scripted');
    if (next instanceof Error) throw next;
    return { status: next.status, ok: next.status === 200, text: async () => JSON.stringify(next.body) };
  };
  const api = new PageApi({ apiBaseUrl: () => API_BASE, fetch, session: { current: () => 'jwt', refresh: async () => 'jwt2' } });
  return { api, sent };
}

/** Timers that only run when the test fires them (`fire`: all that are due, then a flush). */
export function manualTimers() {
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const setTimer = (fn: () => void, ms: number): unknown => {
    const t = { fn, ms };
    timers.push(t);
    return t;
  };
  const clearTimer = (h: unknown): void => {
    const i = timers.indexOf(h as (typeof timers)[number]);
    if (i >= 0) timers.splice(i, 1);
  };
  const fire = async () => {
    const due = timers.splice(0);
    for (const t of due) t.fn();
    await flush();
  };
  return { timers, setTimer, clearTimer, fire };
}
