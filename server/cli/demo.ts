import { loadConfig } from '../config';
import { createDb } from '../db';
import { createLogger } from '../logger';
import { closeAllOnShutdown, startAll } from './start-all';
import { migrate } from './migrate';
import { DEMO_PASSWORD, seedDemo } from './seed';
import { startDemoTraffic } from './demo-traffic';

const DEMO_ADMIN = { username: 'admin', password: 'admin-demo-password' };
const DEMO_REPORT_EVERY_MS = 10_000;

/** `npm run demo`: migrate, seed the demo center, run web + workers, and keep reports coming in. */
async function demo() {
  // The demo needs an admin to show the admin pages; an explicit setting wins.
  process.env.ADMIN_USERNAME ??= DEMO_ADMIN.username;
  process.env.ADMIN_PASSWORD ??= DEMO_ADMIN.password;
  const config = loadConfig();
  const logger = createLogger(config.logLevel);

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

  process.stdout.write(
    [
      '',
      `AFRC demo running on http://localhost:${config.port}`,
      `  admin:       ${config.admin?.username ?? '(not set)'} / ${process.env.ADMIN_PASSWORD === DEMO_ADMIN.password ? DEMO_ADMIN.password : '(from ADMIN_PASSWORD)'}`,
      `  supervisor:  supervisor / ${DEMO_PASSWORD}`,
      `  officer:     officer / ${DEMO_PASSWORD}`,
      `  liaison:     liaison-icbc / ${DEMO_PASSWORD}`,
      `A demo report is filed every ${DEMO_REPORT_EVERY_MS / 1000} s; simulated partners answer after ${config.workers.simulatedDelayMs / 1000} s.`,
      '',
    ].join('\n') + '\n',
  );

  closeAllOnShutdown(config, logger, started, async () => stopTraffic());
}

if (require.main === module) {
  demo().catch((err) => {
    process.stderr.write(`demo failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
