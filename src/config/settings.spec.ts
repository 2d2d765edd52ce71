import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataSourceOptions } from '../database/data-source-options';
import { routesFilePath } from '../routes-as-code/routes-file';
import { InvalidSettingsError, loadSettings } from './settings';

describe('settings added for operations', () => {
  it('sizes the Postgres pool from DATABASE_POOL_SIZE (20 by default)', () => {
    const pool = (env: Record<string, string>) =>
      (dataSourceOptions(loadSettings(env)) as { extra: { max: number } }).extra.max;
    expect(pool({})).toBe(20);
    expect(pool({ DATABASE_POOL_SIZE: '5' })).toBe(5);
  });

  it('remembers 5,000 conversations per worker unless CONVERSATION_MEMORY_SIZE says otherwise', () => {
    expect(loadSettings({}).CONVERSATION_MEMORY_SIZE).toBe(5_000);
    expect(loadSettings({ CONVERSATION_MEMORY_SIZE: '0' }).CONVERSATION_MEMORY_SIZE).toBe(0);
    expect(loadSettings({ CONVERSATION_MEMORY_SIZE: '50000' }).CONVERSATION_MEMORY_SIZE).toBe(
      50_000,
    );
    for (const value of ['-1', 'lots', '1000001']) {
      expect(() => loadSettings({ CONVERSATION_MEMORY_SIZE: value })).toThrow(
        /CONVERSATION_MEMORY_SIZE/,
      );
    }
  });

  it('refuses a pool too small or too large, naming the variable', () => {
    for (const value of ['1', '501', 'many']) {
      expect(() => loadSettings({ DATABASE_POOL_SIZE: value })).toThrow(InvalidSettingsError);
      expect(() => loadSettings({ DATABASE_POOL_SIZE: value })).toThrow(/DATABASE_POOL_SIZE/);
    }
  });

  it('grows the heap 50% before a full GC by default (a worker 100%); 0 keeps V8 own factor', () => {
    expect(loadSettings({}).HEAP_GROWING_PERCENT).toBe(50);
    expect(loadSettings({ APP_ROLE: 'api' }).HEAP_GROWING_PERCENT).toBe(50);
    expect(loadSettings({ HEAP_GROWING_PERCENT: '0' }).HEAP_GROWING_PERCENT).toBe(0);
    // A worker's heap holds the conversations it remembers: 100 unless set.
    expect(loadSettings({ APP_ROLE: 'worker' }).HEAP_GROWING_PERCENT).toBe(100);
    expect(
      loadSettings({ APP_ROLE: 'worker', HEAP_GROWING_PERCENT: '50' }).HEAP_GROWING_PERCENT,
    ).toBe(50);
    for (const value of ['-1', '1001', 'half']) {
      expect(() => loadSettings({ HEAP_GROWING_PERCENT: value })).toThrow(/HEAP_GROWING_PERCENT/);
    }
  });

  it('bounds transform sandboxes: 128 MB heap and 2 sandboxes by default, refused by name', () => {
    const defaults = loadSettings({});
    expect([defaults.TRANSFORM_HEAP_MB, defaults.TRANSFORM_SANDBOXES]).toEqual([128, 2]);
    const chosen = loadSettings({ TRANSFORM_HEAP_MB: '64', TRANSFORM_SANDBOXES: '4' });
    expect([chosen.TRANSFORM_HEAP_MB, chosen.TRANSFORM_SANDBOXES]).toEqual([64, 4]);
    for (const value of ['8', '4097', 'lots']) {
      expect(() => loadSettings({ TRANSFORM_HEAP_MB: value })).toThrow(/TRANSFORM_HEAP_MB/);
    }
    for (const value of ['0', '65', 'some']) {
      expect(() => loadSettings({ TRANSFORM_SANDBOXES: value })).toThrow(/TRANSFORM_SANDBOXES/);
    }
    expect(() => loadSettings({ TRANSFORM_TIMEOUT_MS: '5' })).toThrow(/TRANSFORM_TIMEOUT_MS/);
  });

  it('bounds HTTP requests and connections by default, and names a bad value', () => {
    expect(loadSettings({})).toMatchObject({
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_IDLE_TIMEOUT_MS: 120_000,
      HTTP_MAX_CONNECTIONS: 10_000,
    });
    expect(loadSettings({ HTTP_MAX_CONNECTIONS: '0' }).HTTP_MAX_CONNECTIONS).toBe(0);
    for (const [name, value] of [
      ['HTTP_REQUEST_TIMEOUT_MS', '0'],
      ['HTTP_REQUEST_TIMEOUT_MS', '600001'],
      ['HTTP_IDLE_TIMEOUT_MS', 'soon'],
      ['HTTP_IDLE_TIMEOUT_MS', '999'],
      ['HTTP_MAX_CONNECTIONS', '-1'],
    ]) {
      expect(() => loadSettings({ [name]: value })).toThrow(new RegExp(name));
    }
  });
});

describe('routes as code settings', () => {
  it('reads ROUTES_FILE and ROUTES_APPLY_ON_START (off by default)', () => {
    expect(loadSettings({}).ROUTES_FILE).toBeUndefined();
    expect(loadSettings({}).ROUTES_APPLY_ON_START).toBe(false);
    const settings = loadSettings({
      ROUTES_FILE: 'ops/routes.yaml',
      ROUTES_APPLY_ON_START: 'true',
    });
    expect(settings.ROUTES_FILE).toBe('ops/routes.yaml');
    expect(settings.ROUTES_APPLY_ON_START).toBe(true);
  });

  it('takes an empty ROUTES_FILE (as .env.example has it) for unset', () => {
    expect(routesFilePath(loadSettings({ ROUTES_FILE: '' }).ROUTES_FILE, '/nowhere')).toBeNull();
  });

  it('takes an empty value as unset, so .env.example boots as it is', () => {
    const settings = loadSettings({ PUBLIC_BASE_URL: '', PORT: '4000', ROUTES_FILE: '' });
    expect(settings.publicBaseUrl).toBe('http://localhost:4000');
    expect(settings.ROUTES_FILE).toBeUndefined();
  });

  it('loads .env.example as it is, once the required admin key is given', () => {
    const lines = readFileSync(join(__dirname, '../../.env.example'), 'utf8').split('\n');
    const env = Object.fromEntries(
      lines
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.keys(env).length).toBeGreaterThan(20);
    expect(() => loadSettings(env)).toThrow(/ADMIN_API_KEYS/);
    expect(() => loadSettings({ ...env, ADMIN_API_KEYS: 'k'.repeat(24) })).not.toThrow();
  });
});
