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

  it('refuses a pool too small or too large, naming the variable', () => {
    for (const value of ['1', '501', 'many']) {
      expect(() => loadSettings({ DATABASE_POOL_SIZE: value })).toThrow(InvalidSettingsError);
      expect(() => loadSettings({ DATABASE_POOL_SIZE: value })).toThrow(/DATABASE_POOL_SIZE/);
    }
  });

  it('grows the heap 50% before a full GC by default; 0 keeps V8 own factor', () => {
    expect(loadSettings({}).HEAP_GROWING_PERCENT).toBe(50);
    expect(loadSettings({ HEAP_GROWING_PERCENT: '0' }).HEAP_GROWING_PERCENT).toBe(0);
    for (const value of ['-1', '1001', 'half']) {
      expect(() => loadSettings({ HEAP_GROWING_PERCENT: value })).toThrow(/HEAP_GROWING_PERCENT/);
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
});
