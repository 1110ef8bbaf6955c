import { rmSync } from 'node:fs';
import type { EmbeddedPostgres } from '../../server/cli/embedded-postgres';

// The global setup and teardown run in the same process; what the setup started is kept on
// globalThis, which both see.
type Running = { embedded: EmbeddedPostgres; dir: string };
const KEY = '__afrcTestEmbeddedPostgres';
const store = globalThis as unknown as Record<typeof KEY, Running | undefined>;

export function setEmbeddedPostgres(embedded: EmbeddedPostgres, dir: string): void {
  store[KEY] = { embedded, dir };
}

/** Stops the run's embedded PostgreSQL, if it started one, and deletes its folder. */
export default async function globalTeardown(): Promise<void> {
  const running = store[KEY];
  if (!running) return;
  await running.embedded.stop();
  rmSync(running.dir, { recursive: true, force: true });
  store[KEY] = undefined;
}
