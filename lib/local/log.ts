/**
 * The Log port for the local app: one JSON line per entry into a sink (the console, or a test's), shaped like
 * Powertools' lines in Lambda (level, message, timestamp, service, and the invocation's keys), filtered by
 * POWERTOOLS_LOG_LEVEL. `with(keys)` gives a log whose lines also carry those keys (route, request id, cold start).
 */
import type { Log } from '../../lambda/ports';

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface KeyedLog extends Log {
  with(keys: Record<string, unknown>): KeyedLog;
}

/** The level from POWERTOOLS_LOG_LEVEL (case-insensitive), else `fallback`. */
export function logLevelFrom(raw: string | undefined, fallback: LogLevel): LogLevel {
  const value = raw?.trim().toUpperCase();
  return (LOG_LEVELS as readonly string[]).includes(value ?? '') ? (value as LogLevel) : fallback;
}

export function jsonLineLog(sink: (line: string) => void, opts: { level: LogLevel; service: string }, keys: Record<string, unknown> = {}): KeyedLog {
  const threshold = LOG_LEVELS.indexOf(opts.level);
  const write = (level: Exclude<LogLevel, 'SILENT'>) => (message: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    sink(JSON.stringify({ level, message, timestamp: new Date().toISOString(), service: opts.service, ...keys, ...fields }));
  };
  return {
    debug: write('DEBUG'),
    info: write('INFO'),
    warn: write('WARN'),
    error: write('ERROR'),
    with: (more) => jsonLineLog(sink, opts, { ...keys, ...more }),
  };
}
