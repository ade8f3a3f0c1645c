/** A short, secret-free description of an error for a log line (name, message, AWS error code). */
export function describeError(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { Code?: unknown; code?: unknown }).Code ?? (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'NonError', message: String(err) };
}
