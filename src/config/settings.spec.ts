import { dataSourceOptions } from '../database/data-source-options';
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
