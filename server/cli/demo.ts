import { loadConfig } from '../config';
import { createDb } from '../db';
import { createLogger } from '../logger';
import { findUserByUsername } from '../admin/users.repo';
import { migrate } from './migrate';
import { DEMO_PASSWORD, DEMO_USERS, seedDemo } from './seed';
import { startAll } from './start-all';
import { startDemoTraffic } from './demo-traffic';

const DEMO_ADMIN = { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'demo-admin-password' };
const DEMO_REPORT_INTERVAL_MS = 20000;

/** One command for a new user: migrate, seed, run web and workers, and keep demo reports coming. */
async function demo(): Promise<void> {
  const config = loadConfig({ ...DEMO_ADMIN, ...process.env });
  const logger = createLogger(config.logLevel, { process: 'demo' });
  await migrate(config.databaseUrl);
  const db = createDb(config.databaseUrl, 2);
  try {
    await seedDemo(db, config, logger);
  } finally {
    await db.destroy();
  }
  const { web } = await startAll(config, logger);
  const officerName = DEMO_USERS.find((u) => u.role === 'desk_officer')!.username;
  const deps = web.deps;
  const officer = await findUserByUsername(deps.db, officerName);
  if (officer) {
    const stop = startDemoTraffic(
      deps.db,
      deps.services.reports,
      { id: officer.id, type: 'user', name: officer.username, role: officer.role, institutionId: officer.institutionId },
      DEMO_REPORT_INTERVAL_MS,
      logger,
    );
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  process.stdout.write(
    [
      '',
      `AFRC demo running at http://localhost:${config.port}`,
      `  admin:       ${config.admin?.username} / ${process.env.ADMIN_PASSWORD ? '(ADMIN_PASSWORD)' : DEMO_ADMIN.ADMIN_PASSWORD}`,
      `  demo users:  officer, supervisor, liaison-icbc, liaison-china-mobile, … / ${DEMO_PASSWORD}`,
      `  a demo report is filed every ${DEMO_REPORT_INTERVAL_MS / 1000} s; simulated partners answer by themselves`,
      '',
    ].join('\n') + '\n',
  );
}

demo().catch((err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
