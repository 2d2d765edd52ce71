import { getRepositoryToken } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SourceEntity } from '../../src/sources/source.entity';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';

/**
 * The inbound URL's token is looked up in Postgres once per TTL, found or not, whatever the
 * kind in the URL; and a source created or rotated is found at once, by every API process.
 */
describe('source authentication cache', () => {
  let app: TestApp;
  let other: TestApp;
  let lookups: jest.SpyInstance;

  beforeAll(async () => {
    app = await startTestApp({ APP_ROLE: 'api' });
    other = await startTestApp({ APP_ROLE: 'api' });
    await resetDatabase(app.dataSource);
    const sources = app.running.context.get<Repository<SourceEntity>>(
      getRepositoryToken(SourceEntity),
    );
    lookups = jest.spyOn(sources, 'findOne');
  });

  afterAll(async () => {
    lookups?.mockRestore();
    await app?.close();
    await other?.close();
  });

  const webhook = (target: TestApp, kind: string, token: string) =>
    target.post(`/webhooks/${kind}/${token}`, '{"event":"message_created","id":1}');

  it('asks Postgres once for a token it does not know, then answers from the cache', async () => {
    lookups.mockClear();
    for (let n = 0; n < 5; n++) {
      expect((await webhook(app, 'chatwoot', 'no-such-token-0123456789')).status).toBe(404);
    }
    expect(lookups).toHaveBeenCalledTimes(1);
  });

  it('looks the token up whatever the kind, so an unknown kind costs what an unknown token does', async () => {
    const source = (await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'Acme' }))
      .body;
    lookups.mockClear();
    expect((await webhook(app, 'no-such-kind', 'another-unknown-token-0123')).status).toBe(404);
    expect(lookups).toHaveBeenCalledTimes(1);
    expect((await webhook(app, 'jivo', source.token)).status).toBe(404);
    expect((await webhook(app, 'no-such-kind', source.token)).status).toBe(404);
    expect(lookups).toHaveBeenCalledTimes(2);
    expect((await webhook(app, 'chatwoot', source.token)).status).toBe(200);
    expect(lookups).toHaveBeenCalledTimes(2);
  });

  it('finds a source created or rotated at once, in this process and in another', async () => {
    for (let n = 0; n < 3; n++) {
      expect((await webhook(other, 'chatwoot', `unknown-${n}-0123456789abcdef`)).status).toBe(404);
    }
    const created = (await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'New' }))
      .body;
    expect((await webhook(app, 'chatwoot', created.token)).status).toBe(200);
    expect((await webhook(other, 'chatwoot', created.token)).status).toBe(200);

    const rotated = (await app.admin('POST', `/api/sources/${created.id}/rotate-token`)).body;
    expect((await webhook(app, 'chatwoot', rotated.token)).status).toBe(200);
    expect((await webhook(other, 'chatwoot', rotated.token)).status).toBe(200);
    expect((await webhook(app, 'chatwoot', created.token)).status).toBe(404);
  });
});
