import { INestApplicationContext, Logger } from '@nestjs/common';
import { Settings } from '../config/settings';
import { RoutesApplier, RoutesReport } from './routes-applier';
import {
  DEFAULT_ROUTES_FILE,
  readRoutesFile,
  RoutesFileError,
  routesFilePath,
} from './routes-file';
import { planLines, problemLines } from './routes-report';

/** Where a secret made at boot can be had: it is never written to the logs. */
const SHOWN_BY = {
  url: (id: string) => `its URL token is shown only by POST /api/sources/${id}/rotate-token`,
  enrichmentSecret: (id: string) =>
    `its enrichmentSecret is shown only when enrichmentUrl is first set (PATCH /api/sources/${id})`,
  secret: (id: string) =>
    `its signing secret is shown only by POST /api/subscriptions/${id}/rotate-secret`,
};

/**
 * ROUTES_APPLY_ON_START: the API role applies the routes file before it listens, under the
 * migrations' advisory lock. It never prunes. A refused file stops the boot, naming its problems.
 */
export async function applyRoutesAtBoot(
  context: INestApplicationContext,
  settings: Settings,
  env: Record<string, string | undefined>,
): Promise<void> {
  const path = routesFilePath(settings.ROUTES_FILE);
  if (!path) {
    throw new Error(
      `ROUTES_APPLY_ON_START=true, but ROUTES_FILE is unset and ${DEFAULT_ROUTES_FILE} does not exist`,
    );
  }
  let report: RoutesReport;
  try {
    report = await context
      .get(RoutesApplier)
      .apply(readRoutesFile(path, env), { dryRun: false, prune: false });
  } catch (error) {
    if (!(error instanceof RoutesFileError)) throw error;
    throw new Error(problemLines(path, error.problems).join('\n'));
  }
  logReport(path, report);
}

function logReport(path: string, report: RoutesReport): void {
  const logger = new Logger('RoutesAsCode');
  const lines = planLines(report);
  for (const line of lines.slice(0, -1)) {
    if (!line.trimStart().startsWith('=')) logger.log(`${path}: ${line.trim()}`);
  }
  logger.log(`${path} applied. ${lines[lines.length - 1]}`);
  for (const { object, key, id, field } of report.revealed) {
    logger.warn(`${object} ${key} was created at boot: ${SHOWN_BY[field](id)}`);
  }
}
