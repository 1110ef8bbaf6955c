import { loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';

type Closer = () => Promise<void>;

/** How often a process started under npm checks that npm is still there. */
const PARENT_WATCH_MS = 500;

/**
 * The process that started this one, read when the process starts: a start takes seconds (an
 * embedded database, seeding, workers), and a parent read only after it would already be init if
 * npm was killed meanwhile, so its death would never be seen.
 */
const STARTED_BY = process.ppid;

/**
 * A reason not to start that an operator can act on (the port is taken, the database is not
 * migrated): logged as its one line, without a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'StartupError';
  }
}

/**
 * Runs closers in reverse order on SIGTERM/SIGINT, or when the parent process is gone (npm killed
 * with SIGKILL leaves its child orphaned: the child notices its parent changed), under a deadline,
 * then exits.
 */
export function onShutdown(logger: Logger, timeoutMs: number, closers: Closer[], opts: { stopWithParent?: boolean } = {}): void {
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    for (const close of [...closers].reverse()) {
      try {
        await close();
      } catch (err) {
        logger.error({ err }, 'error while shutting down');
      }
    }
    clearTimeout(deadline);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  if (opts.stopWithParent) {
    const parent = STARTED_BY;
    const watch = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(watch);
      logger.warn({ parent }, 'the process that started this one is gone; stopping');
      void stop('parent exited');
    }, PARENT_WATCH_MS);
    watch.unref();
  }
}

/**
 * The entry of every long-running command (web, workers, both, demo): reads the config (one line
 * per problem, exit 1), sends every crash through the JSON log rather than a plain-text stack on
 * stderr, starts, and stops cleanly on a signal or when its parent goes. A start that fails is one
 * log line and exit 1, with nothing left running.
 */
export function runProcess(
  name: string,
  start: (config: Config, logger: Logger) => Promise<Closer[]>,
  opts: { extraShutdownMs?: number; base?: Record<string, unknown> } = {},
): void {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, opts.base ?? { process: name });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection; exiting');
    process.exit(1);
  });
  start(config, logger).then(
    (closers) => onShutdown(logger, config.workers.shutdownTimeoutMs + (opts.extraShutdownMs ?? 0), closers, { stopWithParent: config.stopWithParent }),
    (err: unknown) => {
      if (err instanceof StartupError) logger.fatal(err.details, err.message);
      else logger.fatal({ err }, `${name} failed to start`);
      process.exit(1);
    },
  );
}
