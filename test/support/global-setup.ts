import { ensureDatabaseExists } from '../../src/database/migrate';
import { TEST_DATABASE_URL } from './test-settings';

/** The e2e suites share one database, created here if it is missing; each suite empties it. */
export default async function globalSetup(): Promise<void> {
  await ensureDatabaseExists(TEST_DATABASE_URL);
}
