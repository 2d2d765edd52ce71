import { SourceEntity } from '../sources/source.entity';
import { SourceSettingsDeclaration } from '../sources/source-settings';
import { resolvedSettings, settingFields } from '../sources/source-settings-rules';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { subscriptionColumns } from '../subscriptions/subscriptions.service';
import { DeclaredSource, DeclaredSubscription } from './routes-declaration';

/**
 * create: declared, not in the database; update: declared and different; unchanged: declared and
 * equal; delete: managed, no longer declared, and --prune; kept: the same without --prune.
 */
export type PlanAction = 'create' | 'update' | 'unchanged' | 'delete' | 'kept';

export interface PlanStep<Declared> {
  action: PlanAction;
  key: string;
  /** The existing object's id; null for a create. */
  id: string | null;
  /** The file's fields that differ from the database (update), secrets named but never shown. */
  changes: string[];
  /** Something the reader should know, e.g. that the router disabled the subscription. */
  note: string | null;
  /** Null for delete and kept. */
  declared: Declared | null;
}

export interface RoutesPlan {
  sources: PlanStep<DeclaredSource>[];
  subscriptions: PlanStep<DeclaredSubscription>[];
}

/** A file field and the columns it sets. */
type Comparison<Columns> = [field: string, read: (columns: Columns) => unknown];

/** A source's name and its kind's settings, defaults filled in, as compared. */
interface SourceColumns {
  name: string;
  settings: Record<string, unknown>;
}

/** `name`, then each setting of the kind, in the order its plug-in declares them. */
function sourceFields(declaration: SourceSettingsDeclaration<object>): Comparison<SourceColumns>[] {
  return [
    ['name', (c) => c.name],
    ...settingFields(declaration).map((field): Comparison<SourceColumns> => [
      field,
      (c) => c.settings[field],
    ]),
  ];
}

const SUBSCRIPTION_FIELDS: Comparison<ReturnType<typeof subscriptionColumns>>[] = [
  ['name', (c) => c.name],
  ['url', (c) => c.url],
  ['eventTypes', (c) => c.eventTypes],
  ['sources', (c) => c.sourceIds],
  ['headers', (c) => c.headers],
  ['filter', (c) => c.filter],
  ['transform', (c) => c.transform],
  ['payloadFormat', (c) => c.payloadFormat],
  ['retryPolicy', (c) => [c.maxAttempts, c.retrySchedule]],
  ['timeoutMs', (c) => c.timeoutMs],
  ['rateLimit', (c) => [c.rateLimitMax, c.rateLimitPerSeconds]],
  ['disableAfterDeadDeliveries', (c) => c.disableAfterDead],
  ['ordering', (c) => c.ordering],
  ['onDead', (c) => c.onDead],
  ['enabled', (c) => c.enabled],
];

/** `settingsOf`: the settings a kind takes (the source registry's). */
export function planSources(
  declared: DeclaredSource[],
  current: SourceEntity[],
  prune: boolean,
  settingsOf: (kind: string) => SourceSettingsDeclaration<object>,
): PlanStep<DeclaredSource>[] {
  const byKey = new Map(current.map((source) => [source.routesKey, source]));
  const steps = declared.map((declaration): PlanStep<DeclaredSource> => {
    const existing = byKey.get(declaration.key);
    if (!existing) return createStep(declaration);
    const { kind, name, settings } = declaration.definition;
    const kindSettings = settingsOf(kind);
    const changes = differences(
      sourceFields(kindSettings),
      { name, settings: resolvedSettings(kindSettings, settings) },
      { name: existing.name, settings: resolvedSettings(kindSettings, existing.settings) },
    );
    return changeStep(declaration, existing.id, changes, null);
  });
  return [...steps, ...undeclared<DeclaredSource>(current, declared, prune)];
}

/** `sourceIdOf`: the id of a source of the file, unknown for one not created yet. */
export function planSubscriptions(
  declared: DeclaredSubscription[],
  current: SubscriptionEntity[],
  sourceIdOf: (key: string) => string | undefined,
  prune: boolean,
): PlanStep<DeclaredSubscription>[] {
  const byKey = new Map(current.map((subscription) => [subscription.routesKey, subscription]));
  const steps = declared.map((declaration): PlanStep<DeclaredSubscription> => {
    const existing = byKey.get(declaration.key);
    if (!existing) return createStep(declaration);
    // A source created by this apply has no id yet: a placeholder no stored id equals.
    const sourceIds = (declaration.sourceKeys ?? []).map(
      (key) => sourceIdOf(key) ?? `(new ${key})`,
    );
    const desired = subscriptionColumns({ ...declaration.dto, sourceIds });
    const changes = differences(SUBSCRIPTION_FIELDS, desired, existing);
    if (declaration.declaresSecret && declaration.dto.secret !== existing.secret) {
      changes.push('secret');
    }
    const note =
      changes.includes('enabled') && existing.disabledReason
        ? `the router disabled it: ${existing.disabledReason}`
        : null;
    return changeStep(declaration, existing.id, changes, note);
  });
  return [...steps, ...undeclared<DeclaredSubscription>(current, declared, prune)];
}

function createStep<Declared extends { key: string }>(declaration: Declared): PlanStep<Declared> {
  return {
    action: 'create',
    key: declaration.key,
    id: null,
    changes: [],
    note: null,
    declared: declaration,
  };
}

function changeStep<Declared extends { key: string }>(
  declaration: Declared,
  id: string,
  changes: string[],
  note: string | null,
): PlanStep<Declared> {
  return {
    action: changes.length > 0 ? 'update' : 'unchanged',
    key: declaration.key,
    id,
    changes,
    note,
    declared: declaration,
  };
}

/** Managed objects the file no longer declares: deleted with --prune, else kept and reported. */
function undeclared<Declared>(
  current: { id: string; routesKey: string | null }[],
  declared: { key: string }[],
  prune: boolean,
): PlanStep<Declared>[] {
  const keys = new Set(declared.map((declaration) => declaration.key));
  return current
    .filter((object) => object.routesKey !== null && !keys.has(object.routesKey))
    .map((object) => ({
      action: prune ? 'delete' : 'kept',
      key: object.routesKey!,
      id: object.id,
      changes: [],
      note: prune ? null : 'no longer in the file: kept (--prune deletes it)',
      declared: null,
    }));
}

function differences<Columns, Entity>(
  comparisons: Comparison<Columns>[],
  desired: Columns,
  existing: Entity,
): string[] {
  return comparisons
    .filter(
      ([, read]) => stableJson(read(desired)) !== stableJson(read(existing as unknown as Columns)),
    )
    .map(([field]) => field);
}

/** JSON with object keys sorted: jsonb does not keep the order they were written in. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : item,
  );
}
