import { SourceEntity } from '../sources/source.entity';
import { SOURCE_PLUGINS } from '../sources/source-plugins';
import { SourceRegistry } from '../sources/source-registry';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { DeclaredSource, DeclaredSubscription } from './routes-declaration';
import { planSources, planSubscriptions, stableJson } from './routes-plan';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const registry = new SourceRegistry(SOURCE_PLUGINS.map((plugin) => new plugin()));
const settingsOf = (kind: string) => registry.settingsOf(kind);

function declaredSource(
  key: string,
  { kind = 'jivo', name = key, ...settings }: Record<string, unknown> = {},
): DeclaredSource {
  return {
    key,
    definition: { kind: kind as string, name: name as string, settings },
    valid: true,
  };
}

function storedSource(key: string | null, fields: Partial<SourceEntity> = {}): SourceEntity {
  return {
    id: `src_${key}`,
    kind: 'jivo',
    name: key ?? 'made through the API',
    tokenHash: Buffer.alloc(32),
    tokenHint: 'abcd',
    settings: {},
    routesKey: key,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...fields,
  };
}

function declaredSubscription(
  key: string,
  fields: Partial<DeclaredSubscription['dto']> = {},
  sourceKeys: string[] | null = null,
): DeclaredSubscription {
  return {
    key,
    dto: { name: key, url: 'https://crm.example.com/hooks', eventTypes: ['*'], ...fields },
    sourceKeys,
    declaresSecret: fields.secret !== undefined,
    valid: true,
  };
}

function storedSubscription(
  key: string | null,
  fields: Partial<SubscriptionEntity> = {},
): SubscriptionEntity {
  return {
    id: `sub_${key}`,
    name: key ?? 'made through the API',
    url: 'https://crm.example.com/hooks',
    eventTypes: ['*'],
    sourceIds: null,
    secret: SECRET,
    previousSecret: null,
    previousSecretExpiresAt: null,
    headers: {},
    filter: null,
    transform: null,
    payloadFormat: 'canonical',
    retrySchedule: null,
    maxAttempts: null,
    timeoutMs: null,
    rateLimitMax: null,
    rateLimitPerSeconds: null,
    disableAfterDead: null,
    ordering: 'none',
    onDead: 'release',
    consecutiveDead: 0,
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    routesKey: key,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...fields,
  };
}

const noSource = () => undefined;

describe('planSources', () => {
  it.each([
    ['a new key', declaredSource('a'), [], 'create', []],
    ['an equal source', declaredSource('a'), [storedSource('a')], 'unchanged', []],
    [
      'a changed name and allow-list',
      declaredSource('a', { name: 'A', allowedChannelIds: ['1'] }),
      [storedSource('a')],
      'update',
      ['name', 'allowedChannelIds'],
    ],
    [
      'a new signing secret value',
      declaredSource('a', { kind: 'chatwoot', signingSecret: 'new' }),
      [storedSource('a', { kind: 'chatwoot', settings: { signingSecret: 'old' } })],
      'update',
      ['signingSecret'],
    ],
    [
      'a field the file dropped (back to its default)',
      declaredSource('a'),
      [
        storedSource('a', {
          settings: { enrichmentUrl: 'https://crm.example.com/enrich', enrichmentSecret: 'x' },
        }),
      ],
      'update',
      ['enrichmentUrl'],
    ],
  ])('%s: %s', (_case, declared, stored, action, changes) => {
    const [step] = planSources([declared], stored, false, settingsOf);
    expect({ action: step.action, changes: step.changes }).toEqual({ action, changes });
  });

  it('keeps, or with prune deletes, managed sources the file dropped; never those made through the API', () => {
    const stored = [storedSource('gone'), storedSource(null)];
    expect(planSources([], stored, false, settingsOf)).toEqual([
      expect.objectContaining({ action: 'kept', key: 'gone', id: 'src_gone' }),
    ]);
    expect(planSources([], stored, true, settingsOf)).toEqual([
      expect.objectContaining({ action: 'delete', key: 'gone', id: 'src_gone', note: null }),
    ]);
  });
});

describe('planSubscriptions', () => {
  it.each([
    ['a new key', declaredSubscription('a'), [], 'create', []],
    [
      'an equal subscription',
      declaredSubscription('a'),
      [storedSubscription('a')],
      'unchanged',
      [],
    ],
    [
      'a filter written in another key order (jsonb does not keep it)',
      declaredSubscription('a', { filter: { b: 1, a: { y: 2, x: 1 } } }),
      [storedSubscription('a', { filter: { a: { x: 1, y: 2 }, b: 1 } })],
      'unchanged',
      [],
    ],
    [
      'a transform, which implies the transformed format',
      declaredSubscription('a', { transform: '{ "x": id }' }),
      [storedSubscription('a')],
      'update',
      ['transform', 'payloadFormat'],
    ],
    [
      'a new header value',
      declaredSubscription('a', { headers: { authorization: 'Bearer new' } }),
      [storedSubscription('a', { headers: { authorization: 'Bearer old' } })],
      'update',
      ['headers'],
    ],
    [
      'a policy dropped from the file',
      declaredSubscription('a'),
      [storedSubscription('a', { maxAttempts: 3, rateLimitMax: 5, rateLimitPerSeconds: 1 })],
      'update',
      ['retryPolicy', 'rateLimit'],
    ],
    [
      'the same declared secret',
      declaredSubscription('a', { secret: SECRET }),
      [storedSubscription('a')],
      'unchanged',
      [],
    ],
    [
      'another declared secret',
      declaredSubscription('a', { secret: 'whsec_NfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
      [storedSubscription('a')],
      'update',
      ['secret'],
    ],
    [
      'no declared secret: the one the router made stays',
      declaredSubscription('a'),
      [storedSubscription('a', { secret: 'whsec_anything' })],
      'unchanged',
      [],
    ],
  ])('%s: %s', (_case, declared, stored, action, changes) => {
    const [step] = planSubscriptions([declared], stored, noSource, false);
    expect({ action: step.action, changes: step.changes }).toEqual({ action, changes });
  });

  it('compares sources by the ids of their keys; a source not created yet is a change', () => {
    const declared = declaredSubscription('a', {}, ['jivo']);
    const stored = [storedSubscription('a', { sourceIds: ['src_1'] })];
    expect(planSubscriptions([declared], stored, () => 'src_1', false)[0].action).toBe('unchanged');
    expect(planSubscriptions([declared], stored, noSource, false)[0].changes).toEqual(['sources']);
  });

  it('says so when it re-enables a subscription the router disabled', () => {
    const stored = storedSubscription('a', { enabled: false, disabledReason: 'HTTP 410 Gone' });
    const [step] = planSubscriptions([declaredSubscription('a')], [stored], noSource, false);
    expect(step).toMatchObject({
      action: 'update',
      changes: ['enabled'],
      note: 'the router disabled it: HTTP 410 Gone',
    });
  });

  it('prunes only with prune, and only what the file made', () => {
    const stored = [storedSubscription('gone'), storedSubscription(null)];
    expect(planSubscriptions([], stored, noSource, true)).toEqual([
      expect.objectContaining({ action: 'delete', key: 'gone' }),
    ]);
  });
});

describe('stableJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(stableJson({ b: [2, 1], a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":[2,1]}');
    expect(stableJson(undefined)).toBe('null');
  });
});
