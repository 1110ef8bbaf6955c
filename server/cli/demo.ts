import type { Config } from '../config';
import { createDb } from '../db';
import type { Logger } from '../logger';
import { runProcess } from '../lifecycle';
import { ALL_SHUTDOWN_EXTRA_MS, closersOf, startAll } from './start-all';
import { migrate } from './migrate';
import { DEMO_INSTITUTIONS, DEMO_MANUAL_BANK, DEMO_MANUAL_LIAISON, DEMO_PASSWORD, seedDemo } from './seed';
import { DEMO_CLOCKS, DEMO_REPORT_EVERY_MS, startDemoAftercare, startDemoTraffic } from './demo-traffic';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { fromProjectRoot } from '../paths';

const DEMO_ADMIN = { username: 'admin', password: 'admin-demo-password' };
/** Where the embedded PostgreSQL keeps the demo's data: a git-ignored folder of the project. */
const DEMO_DATA_DIR = fromProjectRoot('.data');

/**
 * With no DATABASE_URL, the demo brings its own PostgreSQL (and with no REDIS_URL its queues run
 * there too), so `npm ci && npm run demo` needs nothing installed but Node.js.
 */
async function embeddedDatabase(): Promise<EmbeddedPostgres | undefined> {
  if (process.env.DATABASE_URL) return undefined;
  const embedded = await startEmbeddedPostgres({
    dataDir: `${DEMO_DATA_DIR}/postgres`,
    database: 'afrc',
    logFile: `${DEMO_DATA_DIR}/postgres.log`,
  });
  process.env.DATABASE_URL = embedded.url;
  return embedded;
}

/** The sign-ins the demo prints; the manual bank's liaison answers that bank's tasks by hand. */
export function demoAccountLines(adminUsername: string | undefined, adminPassword: string | undefined): string[] {
  const manualBank = DEMO_INSTITUTIONS.find((i) => i.id === DEMO_MANUAL_BANK);
  return [
    `  admin:       ${adminUsername ?? '(not set)'} / ${adminPassword ?? '(from ADMIN_PASSWORD)'}`,
    `  supervisor:  supervisor / ${DEMO_PASSWORD}`,
    `  officer:     officer / ${DEMO_PASSWORD}`,
    `  liaison:     liaison-icbc / ${DEMO_PASSWORD} (simulated bank: answers by itself)`,
    `  liaison:     ${DEMO_MANUAL_LIAISON} / ${DEMO_PASSWORD} (${manualBank?.name ?? DEMO_MANUAL_BANK}, a manual bank: its tasks wait for you at /tasks;` +
      ` accounts starting ${(manualBank?.routes.bank_account ?? []).join(', ')} go there)`,
  ];
}

/** `npm run demo`: migrate, seed the demo center, run web + workers, and keep reports coming in. */
async function demo(config: Config, logger: Logger, embedded: EmbeddedPostgres | undefined) {
  // Whatever fails from here on, the embedded database does not outlive the demo.
  process.once('exit', () => void embedded?.stop());

  const applied = await migrate(config.databaseUrl);
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date');
  const db = createDb(config.databaseUrl, 2);
  try {
    await seedDemo(db, config, logger.child({ process: 'seed' }));
  } finally {
    await db.destroy();
  }

  const started = await startAll(config, logger);
  const stopTraffic = await startDemoTraffic(
    started.web.deps.db, started.web.deps.services.reports, logger.child({ process: 'demo' }), DEMO_REPORT_EVERY_MS,
    started.web.deps.services.screening,
  );
  const stopAftercare = await startDemoAftercare(started.web.deps.db, started.web.deps.services.holds, logger.child({ process: 'demo' }));

  process.stdout.write(
    [
      '',
      `AFRC demo running on http://localhost:${config.port}`,
      ...demoAccountLines(config.admin?.username, process.env.ADMIN_PASSWORD === DEMO_ADMIN.password ? DEMO_ADMIN.password : undefined),
      `A demo report is filed every ${DEMO_REPORT_EVERY_MS / 1000} s; simulated partners answer after ${config.workers.simulatedDelayMs / 1000} s.`,
      `After the freeze: the officer orders frozen money returned (banks pay after ${config.workers.simulatedReturnDelayMs / 1000} s: see the funnel at /dashboard),` +
        ` the first stop-payment lapses after ${config.holds.stopPaymentSeconds} s, and one dispute waits at /holds.`,
      embedded
        ? `Database: embedded PostgreSQL, data in ${DEMO_DATA_DIR}/postgres (its log: ${DEMO_DATA_DIR}/postgres.log).\n` +
          `  To start from empty: stop the demo (Ctrl-C) and delete ${DEMO_DATA_DIR}.`
        : 'Database: DATABASE_URL.',
      config.queueBackend === 'postgres'
        ? 'Queues: BullMQ on PostgreSQL (REDIS_URL is not set); Bull Board at /admin/queues.'
        : `Queues: BullMQ on Redis; Bull Board at /admin/queues.`,
      'API reference: /api/docs. Stop with Ctrl-C.',
      '',
    ].join('\n') + '\n',
  );

  return closersOf(started, { first: [async () => stopTraffic(), async () => stopAftercare()], last: embedded ? [embedded.stop] : [] });
}

if (require.main === module) {
  // The demo needs an admin to show the admin pages; an explicit setting wins.
  process.env.ADMIN_USERNAME ??= DEMO_ADMIN.username;
  process.env.ADMIN_PASSWORD ??= DEMO_ADMIN.password;
  // Short legal clocks, so the whole life of a case fits in a few minutes.
  for (const [name, value] of Object.entries(DEMO_CLOCKS)) process.env[name] ??= value;
  // The embedded database comes first: it sets DATABASE_URL, which the config then reads.
  embeddedDatabase().then(
    (embedded) => runProcess('demo', (config, logger) => demo(config, logger, embedded), { extraShutdownMs: ALL_SHUTDOWN_EXTRA_MS, base: {} }),
    (err) => {
      process.stderr.write(`demo failed to start its embedded PostgreSQL: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
