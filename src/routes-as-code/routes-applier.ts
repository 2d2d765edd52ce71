import { Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { FieldProblem } from '../common/validation-problems';
import { Settings } from '../config/settings';
import { withMigrationLock } from '../database/migrate';
import { SourceDefinition } from '../sources/dto/source-body';
import { SourceEntity } from '../sources/source.entity';
import { SourceRegistry } from '../sources/source-registry';
import { settingFields } from '../sources/source-settings-rules';
import { SourcesService } from '../sources/sources.service';
import { CreateSubscriptionDto } from '../subscriptions/dto/create-subscription.dto';
import { UpdateSubscriptionDto } from '../subscriptions/dto/update-subscription.dto';
import { SubscriptionsService, subscriptionColumns } from '../subscriptions/subscriptions.service';
import {
  Declarations,
  DeclaredSource,
  DeclaredSubscription,
  declarationsOf,
} from './routes-declaration';
import { RoutesFile, RoutesFileError } from './routes-file';
import { planSources, planSubscriptions, RoutesPlan } from './routes-plan';

export interface ApplyOptions {
  /** Plan only: read the database, change nothing. */
  dryRun: boolean;
  /** Delete the managed objects the file no longer declares. */
  prune: boolean;
}

/** A secret the router made while applying: shown to whoever applied, once. */
export interface RevealedSecret {
  object: 'source' | 'subscription';
  key: string;
  id: string;
  field: 'url' | 'enrichmentSecret' | 'secret';
  value: string;
}

export interface RoutesReport {
  plan: RoutesPlan;
  applied: boolean;
  revealed: RevealedSecret[];
}

/**
 * Makes the database match the routes file through the admin API's own services: the same
 * validation, the same writes. The file's objects carry their key (`routes_key`), which is how a
 * later apply finds them again; objects made through the API are never touched.
 */
@Injectable()
export class RoutesApplier {
  constructor(
    private readonly sources: SourcesService,
    private readonly subscriptions: SubscriptionsService,
    private readonly registry: SourceRegistry,
    private readonly settings: Settings,
  ) {}

  /** Throws RoutesFileError, having changed nothing, when anything in the file is refused. */
  async apply(file: RoutesFile, options: ApplyOptions): Promise<RoutesReport> {
    const declarations = await declarationsOf(file, this.registry);
    declarations.problems.push(...(await this.refusedWrites(declarations)));
    if (declarations.problems.length > 0) {
      throw new RoutesFileError(file.path, declarations.problems);
    }
    if (options.dryRun) {
      return { plan: await this.plan(file, declarations, options), applied: false, revealed: [] };
    }
    return withMigrationLock(this.settings, async () => {
      const plan = await this.plan(file, declarations, options);
      return { plan, applied: true, revealed: await this.execute(plan) };
    });
  }

  /** What the services would refuse at write time (a private target, …). */
  private async refusedWrites(declarations: Declarations): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    for (const { key, definition } of declarations.sources.filter(({ valid }) => valid)) {
      problems.push(
        ...(await serviceProblems(`sources.${key}`, () =>
          this.sources.assertCreatable(definition),
        )),
      );
    }
    for (const { key, dto } of declarations.subscriptions.filter(({ valid }) => valid)) {
      problems.push(
        ...(await serviceProblems(`subscriptions.${key}`, () =>
          this.subscriptions.assertCreatable(dto),
        )),
      );
    }
    return problems;
  }

  private async plan(
    file: RoutesFile,
    declarations: Declarations,
    { prune }: ApplyOptions,
  ): Promise<RoutesPlan> {
    const [sources, subscriptions] = await Promise.all([
      this.sources.listManaged(),
      this.subscriptions.listManaged(),
    ]);
    const kindChanges = changedKinds(declarations.sources, sources);
    if (kindChanges.length > 0) throw new RoutesFileError(file.path, kindChanges);
    const sourceIds = new Map(sources.map((source) => [source.routesKey, source.id]));
    return {
      sources: planSources(declarations.sources, sources, prune, (kind) =>
        this.registry.settingsOf(kind),
      ),
      subscriptions: planSubscriptions(
        declarations.subscriptions,
        subscriptions,
        (key) => sourceIds.get(key),
        prune,
      ),
    };
  }

  private async execute(plan: RoutesPlan): Promise<RevealedSecret[]> {
    const revealed: RevealedSecret[] = [];
    const sourceIds = new Map<string, string>();
    for (const { action, key, id, declared } of plan.sources) {
      if (id) sourceIds.set(key, id);
      if (action === 'create') {
        const created = await this.sources.create(sourceCreate(declared!.definition), key);
        sourceIds.set(key, created.id);
        revealed.push({ object: 'source', key, id: created.id, field: 'url', value: created.url });
        if (created.enrichmentSecret) {
          revealed.push({
            object: 'source',
            key,
            id: created.id,
            field: 'enrichmentSecret',
            value: created.enrichmentSecret as string,
          });
        }
      } else if (action === 'update') {
        const updated = await this.sources.update(
          id!,
          sourceUpdate(
            declared!.definition,
            settingFields(this.registry.settingsOf(declared!.definition.kind)),
          ),
        );
        if (updated.enrichmentSecret) {
          revealed.push({
            object: 'source',
            key,
            id: updated.id,
            field: 'enrichmentSecret',
            value: updated.enrichmentSecret as string,
          });
        }
      }
    }
    for (const { action, key, id, changes, declared } of plan.subscriptions) {
      if (action !== 'create' && action !== 'update') continue;
      const dto = withSourceIds(declared!, sourceIds);
      if (action === 'create') {
        const created = await this.subscriptions.create(dto, key);
        if (!declared!.declaresSecret) {
          revealed.push({
            object: 'subscription',
            key,
            id: created.id,
            field: 'secret',
            value: created.secret!,
          });
        }
        continue;
      }
      if (changes.some((field) => field !== 'secret')) {
        await this.subscriptions.update(id!, subscriptionUpdate(dto));
      }
      if (changes.includes('secret')) {
        // A rotation: the old secret keeps signing for the grace period, as through the API.
        await this.subscriptions.rotateSecret(id!, { secret: dto.secret });
      }
    }
    for (const step of plan.subscriptions) {
      if (step.action === 'delete') await this.subscriptions.remove(step.id!);
    }
    for (const step of plan.sources) {
      if (step.action === 'delete') await this.sources.remove(step.id!);
    }
    return revealed;
  }
}

/** The problems an admin service check reports, under the entry's path in the file. */
async function serviceProblems(field: string, check: () => Promise<void>): Promise<FieldProblem[]> {
  try {
    await check();
    return [];
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'validation_failed') throw error;
    const details = (error.details as FieldProblem[] | undefined) ?? [];
    return details.length > 0
      ? details.map((detail) => ({ ...detail, field: `${field}.${detail.field}` }))
      : [{ field, problems: [error.message] }];
  }
}

/** A source's kind is part of its URL: a new kind is a new source, under a new key. */
function changedKinds(declared: DeclaredSource[], current: SourceEntity[]): FieldProblem[] {
  const kinds = new Map(current.map((source) => [source.routesKey, source.kind]));
  return declared
    .filter(({ key, definition }) => kinds.has(key) && kinds.get(key) !== definition.kind)
    .map(({ key, definition }) => ({
      field: `sources.${key}.kind`,
      problems: [
        `cannot change from ${kinds.get(key)} to ${definition.kind}: declare the new source under a new key`,
      ],
    }));
}

function withSourceIds(
  declared: DeclaredSubscription,
  sourceIds: Map<string, string>,
): CreateSubscriptionDto {
  return {
    ...declared.dto,
    sourceIds: declared.sourceKeys?.map((key) => sourceIds.get(key)!) ?? null,
  };
}

function sourceCreate({ kind, name, settings }: SourceDefinition): Record<string, unknown> {
  return { kind, name, ...settings };
}

/** Every field the file can set, so that what the file leaves out goes back to its default. */
function sourceUpdate(
  { name, settings }: SourceDefinition,
  fields: string[],
): Record<string, unknown> {
  return { name, ...Object.fromEntries(fields.map((field) => [field, settings[field] ?? null])) };
}

function subscriptionUpdate(dto: CreateSubscriptionDto): UpdateSubscriptionDto {
  return {
    name: dto.name,
    url: dto.url,
    eventTypes: dto.eventTypes,
    sourceIds: dto.sourceIds ?? null,
    headers: dto.headers ?? {},
    filter: dto.filter ?? null,
    transform: dto.transform ?? null,
    payloadFormat: subscriptionColumns(dto).payloadFormat,
    retryPolicy: dto.retryPolicy ?? null,
    timeoutMs: dto.timeoutMs ?? null,
    rateLimit: dto.rateLimit ?? null,
    disableAfterDeadDeliveries: dto.disableAfterDeadDeliveries ?? null,
    ordering: dto.ordering ?? 'none',
    onDead: dto.onDead ?? 'release',
    enabled: dto.enabled ?? true,
  };
}
