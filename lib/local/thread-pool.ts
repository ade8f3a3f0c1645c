/**
 * libuv's thread pool, where node:crypto's scrypt and LevelDB's reads and writes run: its size bounds how many
 * sign-ins the local app hashes at once (app.ts) and how fast the bench expects them (lib/bench/local-server.ts).
 */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.UV_THREADPOOL_SIZE) || 4;
}
