import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { randomToken } from './common/secrets';
import { InvalidSettingsError, loadSettings, Settings } from './config/settings';
import { startApp } from './bootstrap';

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
  if (settings.ADMIN_API_KEYS.length === 0 && settings.APP_ROLE !== 'worker') {
    const developmentKey = `dev_${randomToken(18)}`;
    settings.ADMIN_API_KEYS = [developmentKey];
    new Logger('Bootstrap').warn(
      `No ADMIN_API_KEYS set (NODE_ENV=${settings.NODE_ENV}); development admin key for this run: ${developmentKey}`,
    );
  }
  await startApp(settings);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
