/**
 * The HTTP baseline: a bare Express app on the same PostgreSQL (the bench database), pool size 10
 * like the app, in a child process of its own. Each route is the least the corresponding use case
 * could do: parse the same body and run one statement.
 *
 *   POST /intake   one INSERT of the report (autocommit: the INSERT is the commit)
 *   POST /lookup   one query joining the batch to the indicators table (no normalization)
 *   GET  /rollup   one read of the period's rows of the daily rollup
 */
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { track } from './processes';

const TABLE = 'bench_baseline_intake';

async function serve(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, application_name: 'afrc-bench-baseline' });
  await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
    id bigserial PRIMARY KEY, victim_name text NOT NULL, reported_loss_minor bigint NOT NULL, body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())`);

  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.post('/intake', async (req, res, next) => {
    try {
      const body = req.body as { victim: { name: string }; transfers: { amountMinor: number }[] };
      const loss = body.transfers.reduce((s, t) => s + t.amountMinor, 0);
      const { rows } = await pool.query(`INSERT INTO ${TABLE} (victim_name, reported_loss_minor, body) VALUES ($1, $2, $3) RETURNING id`, [body.victim.name, loss, body]);
      res.status(201).json({ id: rows[0].id });
    } catch (err) {
      next(err);
    }
  });
  app.post('/lookup', async (req, res, next) => {
    try {
      const items = (req.body as { items: { kind: string; value: string }[] }).items;
      const { rows } = await pool.query(
        `SELECT q.kind, q.value, i.status, i.report_count, i.last_seen_at
           FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(kind, value, ord)
           LEFT JOIN indicators i ON i.kind = q.kind AND i.value = q.value
          ORDER BY q.ord`,
        [items.map((i) => i.kind), items.map((i) => i.value)],
      );
      res.json({ results: rows });
    } catch (err) {
      next(err);
    }
  });
  app.get('/rollup', async (req, res, next) => {
    try {
      const { rows } = await pool.query(
        `SELECT day, sum(reports) AS reports, sum(reported_loss_minor) AS reported, sum(loss_prevented_minor) AS prevented
           FROM stats_daily WHERE currency = 'CNY' AND day BETWEEN $1 AND $2 GROUP BY day ORDER BY day`,
        [req.query.from, req.query.to],
      );
      res.json({ daily: rows });
    } catch (err) {
      next(err);
    }
  });

  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  process.send!({ port: (server.address() as AddressInfo).port });
  const close = () => server.close(() => void pool.end().finally(() => process.exit(0)));
  process.once('SIGTERM', close);
  process.once('disconnect', close);
}

export type BaselineServer = { url: string; stop(): Promise<void> };

export async function startBaselineServer(databaseUrl: string): Promise<BaselineServer> {
  const proc = track(fork(__filename, ['--baseline-server', databaseUrl], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as { port: number }));
    proc.once('exit', (code) => reject(new Error(`the baseline server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

if (process.argv[2] === '--baseline-server') {
  serve(process.argv[3]!).catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
