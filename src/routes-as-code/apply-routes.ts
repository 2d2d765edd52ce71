import 'reflect-metadata';
import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidSettingsError, loadSettings, Settings } from '../config/settings';
import { SettingsModule } from '../config/settings.module';
import { hasPendingMigrations, runMigrations } from '../database/migrate';
import { DELIVERY_QUEUE, INGEST_QUEUE, MAINTENANCE_QUEUE } from '../queues/queue-names';
import { ApplyOptions, RoutesApplier, RoutesReport } from './routes-applier';
import { RoutesAsCodeModule } from './routes-as-code.module';
import {
  DEFAULT_ROUTES_FILE,
  readRoutesFile,
  RoutesFileError,
  routesFilePath,
} from './routes-file';
import { hasChanges, planLines, problemLines, revealedLines } from './routes-report';

const USAGE = `Usage: npm run routes:apply -- [--file F] [--dry-run] [--prune]
  (or: node dist/routes-as-code/apply-routes.js [options])

Makes sources and subscriptions match the routes file: validates it, prints the plan, applies it.
  --file F    the routes file (default: ROUTES_FILE, else ${DEFAULT_ROUTES_FILE})
  --dry-run   print the plan, change nothing
  --prune     delete what an earlier apply made and the file no longer declares
Connects with the router's settings (DATABASE_URL, REDIS_URL, …); \${NAME} in the file reads the
environment. See docs/routes-as-code.md.`;

export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

/** The routes:apply command; resolves to the exit code (0 applied or planned, 1 refused or failed). */
export async function applyRoutesCommand(
  args: string[],
  env: Record<string, string | undefined>,
  output: CommandOutput,
  cwd = process.cwd(),
): Promise<number> {
  let parsed: ReturnType<typeof parseArguments>;
  try {
    parsed = parseArguments(args);
  } catch (error) {
    output.err(`${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (parsed.help) {
    output.out(USAGE);
    return 0;
  }
  let settings: Settings;
  try {
    settings = loadSettings(env);
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    output.err(error.message);
    return 1;
  }
  const path = parsed.file ? resolve(cwd, parsed.file) : routesFilePath(settings.ROUTES_FILE, cwd);
  if (!path) {
    output.err(
      `No routes file: ROUTES_FILE is unset and ${DEFAULT_ROUTES_FILE} does not exist ` +
        '(start from config/routes.example.yaml).',
    );
    return 1;
  }
  const shownPath = relative(cwd, path).startsWith('..') ? path : relative(cwd, path);
  try {
    const file = readRoutesFile(path, env);
    await prepareSchema(settings, parsed.dryRun);
    const report = await withApplier(settings, (applier) => applier.apply(file, parsed));
    printReport(shownPath, report, output);
    return 0;
  } catch (error) {
    if (!(error instanceof RoutesFileError)) {
      output.err(`routes:apply failed: ${(error as Error).message}`);
      return 1;
    }
    problemLines(shownPath, error.problems).forEach((line) => output.err(line));
    return 1;
  }
}

/** Migrates as the router would at start; a dry run only checks, since it changes nothing. */
async function prepareSchema(settings: Settings, dryRun: boolean): Promise<void> {
  if (!dryRun && settings.DATABASE_MIGRATE_ON_START) return runMigrations(settings);
  if (await hasPendingMigrations(settings)) {
    throw new Error(
      'the database schema is not up to date: run `npm run migration:run`' +
        (dryRun ? ', or apply without --dry-run' : ''),
    );
  }
}

function parseArguments(args: string[]): ApplyOptions & { file?: string; help: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: 'string', short: 'f' },
      'dry-run': { type: 'boolean', default: false },
      prune: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    file: values.file,
    dryRun: values['dry-run'],
    prune: values.prune,
    help: values.help,
  };
}

function printReport(path: string, report: RoutesReport, output: CommandOutput): void {
  output.out(`Routes file: ${path}`);
  planLines(report).forEach((line) => output.out(line));
  output.out(
    !report.applied
      ? 'Dry run: nothing was changed.'
      : hasChanges(report)
        ? 'Applied.'
        : 'Nothing to change: the database matches the file.',
  );
  revealedLines(report).forEach((line) => output.out(line));
}

@Module({})
class RoutesCommandModule {
  static forSettings(settings: Settings): DynamicModule {
    return {
      module: RoutesCommandModule,
      imports: [SettingsModule.forRoot(settings), RoutesAsCodeModule],
    };
  }
}

/** The admin services without HTTP or queue consumers: Postgres, and Redis to tell the matchers. */
async function withApplier<T>(
  settings: Settings,
  work: (applier: RoutesApplier) => Promise<T>,
): Promise<T> {
  const context = await NestFactory.createApplicationContext(
    RoutesCommandModule.forSettings(settings),
    { logger: ['error', 'warn'], abortOnError: false },
  );
  try {
    // Closing a queue handle still connecting makes BullMQ emit an error nobody can catch.
    await Promise.all(
      [INGEST_QUEUE, DELIVERY_QUEUE, MAINTENANCE_QUEUE].map((name) =>
        context.get<Queue>(getQueueToken(name)).waitUntilReady(),
      ),
    );
    return await work(context.get(RoutesApplier));
  } finally {
    await context.close();
  }
}

if (require.main === module) {
  const output: CommandOutput = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  applyRoutesCommand(process.argv.slice(2), process.env, output).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
