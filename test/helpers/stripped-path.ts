import { accessSync, constants, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';

/** The database and Redis programs a machine with only Node.js does not have. */
export const SERVER_PROGRAMS = ['psql', 'postgres', 'pg_ctl', 'pg_ctlcluster', 'initdb', 'redis-server', 'redis-cli'];

/**
 * A PATH as the given one, less the PostgreSQL and Redis programs: a folder of links to every
 * other program found on `PATH`, first one of a name winning, as the shell would find it.
 */
export function strippedPath(dir: string, PATH = process.env.PATH ?? ''): string {
  mkdirSync(dir, { recursive: true });
  const taken = new Set<string>(SERVER_PROGRAMS);
  for (const from of PATH.split(path.delimiter).filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (taken.has(name)) continue;
      const full = path.join(from, name);
      try {
        if (!statSync(full).isFile()) continue;
        accessSync(full, constants.X_OK);
      } catch {
        continue;
      }
      taken.add(name);
      symlinkSync(full, path.join(dir, name));
    }
  }
  return dir;
}
