import type { Logger } from './logger';

type Closer = () => Promise<void>;

/** Runs closers in reverse order on SIGTERM/SIGINT, under a deadline, then exits. */
export function onShutdown(logger: Logger, timeoutMs: number, closers: Closer[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
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
}
