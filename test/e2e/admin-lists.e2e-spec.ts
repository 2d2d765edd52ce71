import { listAll, resetDatabase, startTestApp, TestApp } from '../support/test-app';

/** /api/sources and /api/subscriptions page like /api/events: `?cursor=&limit=`, newest first. */
describe('admin lists page with cursor and limit', () => {
  let app: TestApp;
  const created: Record<string, string[]> = { '/api/sources': [], '/api/subscriptions': [] };

  beforeAll(async () => {
    app = await startTestApp({ APP_ROLE: 'api' });
    await resetDatabase(app.dataSource);
    for (let n = 0; n < 55; n++) {
      const source = await app.admin('POST', '/api/sources', { kind: 'jivo', name: `Jivo ${n}` });
      created['/api/sources'].push(source.body.id);
      const subscription = await app.admin('POST', '/api/subscriptions', {
        name: `CRM ${n}`,
        url: 'http://127.0.0.1:9/hook',
        eventTypes: ['*'],
      });
      created['/api/subscriptions'].push(subscription.body.id);
    }
  });

  afterAll(async () => {
    await app?.close();
  });

  describe.each(['/api/sources', '/api/subscriptions'])('%s', (path) => {
    it('answers 50 by default, newest first, with the cursor of the next page', async () => {
      const first = await app.admin('GET', path);
      expect(first.status).toBe(200);
      const newestFirst = [...created[path]].reverse();
      expect(first.body.data.map((item: { id: string }) => item.id)).toEqual(
        newestFirst.slice(0, 50),
      );
      expect(first.body.nextCursor).toBe(newestFirst[49]);
      const rest = await app.admin('GET', `${path}?cursor=${first.body.nextCursor}`);
      expect(rest.body.data.map((item: { id: string }) => item.id)).toEqual(newestFirst.slice(50));
      expect(rest.body.nextCursor).toBeNull();
    });

    it('walks every item once with a smaller limit', async () => {
      const pages: number[] = [];
      let cursor: string | null = null;
      const seen: string[] = [];
      do {
        const query: string = `?limit=20${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await app.admin('GET', `${path}${query}`);
        pages.push(page.body.data.length);
        seen.push(...page.body.data.map((item: { id: string }) => item.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(pages).toEqual([20, 20, 15]);
      expect(seen).toEqual([...created[path]].reverse());
      expect((await listAll(app, path)).map((item) => item.id)).toEqual(seen);
    });

    it('documents cursor and limit in the OpenAPI document', async () => {
      const document = (await (await fetch(`${app.url}/docs/json`)).json()) as any;
      const parameters = document.paths[path].get.parameters as { name: string; in: string }[];
      expect(parameters.map(({ name, in: where }) => `${where}:${name}`)).toEqual(
        expect.arrayContaining(['query:cursor', 'query:limit']),
      );
      expect(document.paths[path].get.responses['200'].content['application/json'].schema).toEqual(
        expect.objectContaining({ required: ['data', 'nextCursor'] }),
      );
    });

    it('names a bad limit', async () => {
      for (const limit of ['0', '201', 'all']) {
        const response = await app.admin('GET', `${path}?limit=${limit}`);
        expect({ limit, status: response.status }).toEqual({ limit, status: 400 });
        expect(response.body.details.map((detail: { field: string }) => detail.field)).toEqual([
          'limit',
        ]);
      }
    });
  });

  it.each([
    ['/api/events', 'since'],
    ['/api/events', 'until'],
    ['/api/conversations', 'since'],
    ['/api/conversations', 'until'],
  ])(
    'names a time filter of %s that is no instant, with the form it takes',
    async (path, field) => {
      const bad = await app.admin('GET', `${path}?${field}=yesterday`);
      expect(bad.status).toBe(400);
      expect(bad.body.details).toEqual([
        {
          field,
          problems: [`${field} must be an ISO 8601 date-time, such as 2026-04-16T14:05:40Z`],
        },
      ]);
      const good = await app.admin('GET', `${path}?${field}=2026-04-16T14:05:40Z`);
      expect(good.status).toBe(200);
    },
  );

  it('names a bulk retry whose since is no instant, with the form it takes', async () => {
    const bad = await app.admin('POST', '/api/deliveries/retry', {
      status: 'dead',
      since: 'yesterday',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([
      {
        field: 'since',
        problems: ['since must be an ISO 8601 date-time, such as 2026-04-16T14:05:40Z'],
      },
    ]);
  });
});
