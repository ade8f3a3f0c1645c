/**
 * Renders request mapping templates for the local app without letting one request stall the others. A
 * Twilio webhook's body is a few kilobytes and renders in well under a millisecond, inline. A large body (a
 * hostile one: 1.2 MB of 400,000 parameters takes seconds to render, though rendering is linear in its
 * size) goes to one worker thread with the same renderer, queued there: it then costs other requests nothing
 * but a share of the second core, instead of blocking the event loop. Limits (docs/local.md): bodies up to
 * API Gateway's 10 MB; above INLINE_RENDER_MAX_BYTES they are rendered in the worker, one at a time, with
 * at most MAX_QUEUED_LARGE_RENDERS waiting (more are refused with RendererBusyError: the gateway answers 429,
 * as API Gateway does when throttled), so a flood of large bodies cannot pile up memory.
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { renderRequestTemplate, VtlRenderError, type GatewayRequest } from '../vtl';

/** Bodies up to this size render inline (Twilio's webhooks are far smaller). */
export const INLINE_RENDER_MAX_BYTES = 64 * 1024;

/** Large bodies queued for the worker at once; beyond this they are refused (429). */
export const MAX_QUEUED_LARGE_RENDERS = 4;

/** The worker's queue is full: try again later. */
export class RendererBusyError extends Error {}

export interface TemplateRenderer {
  renderRequest(template: string, request: GatewayRequest): Promise<string>;
  close(): Promise<void>;
}

interface WorkerAnswer {
  id: number;
  output?: string;
  error?: { name?: string; message: string };
}

export function createTemplateRenderer(opts: { inlineMaxBytes?: number; maxQueued?: number } = {}): TemplateRenderer {
  const inlineMaxBytes = opts.inlineMaxBytes ?? INLINE_RENDER_MAX_BYTES;
  const maxQueued = opts.maxQueued ?? MAX_QUEUED_LARGE_RENDERS;
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (s: string) => void; reject: (e: Error) => void }>();

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker = undefined;
  };
  const startWorker = (): Worker => {
    // Not the process's flags: tsx's loader hooks would start again in the thread (it registers tsx itself).
    const w = new Worker(path.join(__dirname, 'render-worker.cjs'), { execArgv: [] });
    w.unref();
    w.on('message', (answer: WorkerAnswer) => {
      const p = pending.get(answer.id);
      if (!p) return;
      pending.delete(answer.id);
      if (answer.error) p.reject(new VtlRenderError(answer.error.message));
      else p.resolve(answer.output ?? '');
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', () => failAll(new Error('the template worker stopped')));
    return w;
  };

  return {
    async renderRequest(template, request) {
      if (Buffer.byteLength(request.body, 'utf8') <= inlineMaxBytes) return renderRequestTemplate(template, request);
      if (pending.size >= maxQueued) throw new RendererBusyError(`${pending.size} large bodies are already being rendered`);
      worker ??= startWorker();
      const id = nextId++;
      const answer = new Promise<string>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.postMessage({ id, template, request });
      return answer;
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}
