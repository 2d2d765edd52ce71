import { DataSource, QueryFailedError } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { preparedQuery } from '../../src/database/prepared-query';
import { testSettings } from '../support/test-settings';

/** Named prepared statements on real Postgres: the same answers as an unnamed query. */
describe('preparedQuery', () => {
  const dataSource = new DataSource({
    ...dataSourceOptions(testSettings()),
    entities: [],
    extra: { max: 1 },
  });

  beforeAll(() => dataSource.initialize());
  afterAll(() => dataSource.destroy());

  const text = `SELECT n, $2::text AS label FROM unnest($1::int[]) AS t (n) ORDER BY n`;

  it('answers the rows, again on the same connection with other values', async () => {
    // One connection in the pool: the second run finds the statement prepared there.
    expect(await preparedQuery(dataSource, text, [[2, 1], 'a'])).toEqual([
      { n: 1, label: 'a' },
      { n: 2, label: 'a' },
    ]);
    expect(await preparedQuery(dataSource, text, [[3], 'b'])).toEqual([{ n: 3, label: 'b' }]);
    const [{ prepared }] = (await dataSource.query(
      `SELECT count(*)::int AS prepared FROM pg_prepared_statements WHERE statement = $1`,
      [text],
    )) as { prepared: number }[];
    expect(prepared).toBe(1);
  });

  it("runs inside the manager's transaction", async () => {
    await dataSource.query(`CREATE TEMP TABLE IF NOT EXISTS prepared_probe (n int)`);
    await expect(
      dataSource.transaction(async (manager) => {
        await preparedQuery(manager, `INSERT INTO prepared_probe (n) VALUES ($1)`, [7]);
        expect(await manager.query(`SELECT n FROM prepared_probe`)).toEqual([{ n: 7 }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await dataSource.query(`SELECT n FROM prepared_probe`)).toEqual([]);
  });

  it('fails as a query does, with the statement and the database error', async () => {
    const failed = preparedQuery(dataSource, `SELECT 1 / $1::int AS x`, [0]);
    await expect(failed).rejects.toBeInstanceOf(QueryFailedError);
    await expect(failed).rejects.toThrow('division by zero');
  });
});
