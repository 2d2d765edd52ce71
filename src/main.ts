import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { setFlagsFromString } from 'node:v8';
import { randomToken } from './common/secrets';
import { InvalidSettingsError, loadSettings, Settings } from './config/settings';
import { RunningApp, startApp } from './bootstrap';

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = loadSettings();
  } catch (error) {
    if (error instanceof InvalidSettingsError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  if (settings.HEAP_GROWING_PERCENT > 0) {
    setFlagsFromString(`--heap-growing-percent=${settings.HEAP_GROWING_PERCENT}`);
  }
  if (settings.ADMIN_API_KEYS.length === 0 && settings.APP_ROLE !== 'worker') {
    const developmentKey = `dev_${randomToken(18)}`;
    settings.ADMIN_API_KEYS = [developmentKey];
    new Logger('Bootstrap').warn(
      `No ADMIN_API_KEYS set (NODE_ENV=${settings.NODE_ENV}); development admin key for this run: ${developmentKey}`,
    );
  }
  const running = await startApp(settings);
  stopOnSignals(running, settings.SHUTDOWN_TIMEOUT_MS);
}

/**
 * SIGTERM/SIGINT: close gracefully (see gracefulClose), exit 0; still busy after the deadline, or
 * a second signal: exit 1. Jobs cut short then are retried by another worker once their lock expires.
 */
function stopOnSignals(running: RunningApp, timeoutMs: number): void {
  const logger = new Logger('Shutdown');
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.log(`${signal}: closing (deadline ${timeoutMs} ms)`);
    setTimeout(() => {
      logger.error(`still closing after ${timeoutMs} ms: exiting now`);
      process.exit(1);
    }, timeoutMs).unref();
    running.close().then(
      () => {
        logger.log('closed');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
