import Fastify, { FastifyInstance } from 'fastify';
import { isAdminKey, presentedKey, requireAdminKey } from './admin-key.hook';

const KEY = 'admin-key-0123456789';
const OTHER_KEY = 'another-key-0123456789';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('presentedKey', () => {
  it('reads a Bearer key and the password of Basic credentials', () => {
    expect(presentedKey(`Bearer ${KEY}`)).toBe(KEY);
    expect(presentedKey(`bearer  ${KEY}`)).toBe(KEY);
    expect(presentedKey(basic('admin', KEY))).toBe(KEY);
    expect(presentedKey(basic('', `${KEY}:with-colon`))).toBe(`${KEY}:with-colon`);
  });

  it('finds nothing in a missing or malformed header', () => {
    expect(presentedKey(undefined)).toBeNull();
    expect(presentedKey('Token abc')).toBeNull();
    expect(presentedKey(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBeNull();
  });
});

describe('isAdminKey', () => {
  it('accepts any configured key and nothing else', () => {
    expect(isAdminKey(KEY, [OTHER_KEY, KEY])).toBe(true);
    expect(isAdminKey(OTHER_KEY, [OTHER_KEY, KEY])).toBe(true);
    expect(isAdminKey(`${KEY}x`, [OTHER_KEY, KEY])).toBe(false);
    expect(isAdminKey(KEY, [])).toBe(false);
  });
});

describe('requireAdminKey in a plugin scope', () => {
  let fastify: FastifyInstance;

  beforeAll(async () => {
    fastify = Fastify();
    await fastify.register(
      async (scope) => {
        scope.addHook('onRequest', requireAdminKey([OTHER_KEY, KEY]));
        scope.get('/', async () => 'dashboard');
        scope.get('/api/queues', async () => 'queues');
      },
      { prefix: '/admin/queues' },
    );
    fastify.get('/open', async () => 'open');
    await fastify.ready();
  });

  afterAll(() => fastify.close());

  const get = (url: string, authorization?: string) =>
    fastify.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });

  it('answers 401 with a Basic challenge on every route of the scope', async () => {
    for (const url of ['/admin/queues', '/%61dmin/queues/api/queues', '/admin/queues/api/queues']) {
      const response = await get(url);
      expect({ url, status: response.statusCode }).toEqual({ url, status: 401 });
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="webhook-router"/);
      expect(response.json()).toMatchObject({ statusCode: 401, error: 'unauthorized' });
    }
  });

  it('refuses a wrong key, as Bearer or Basic', async () => {
    expect((await get('/admin/queues', 'Bearer wrong-key-0123456789')).statusCode).toBe(401);
    expect((await get('/admin/queues', basic('admin', 'wrong'))).statusCode).toBe(401);
  });

  it('lets any configured key through, as Bearer or as the Basic password', async () => {
    expect((await get('/admin/queues', `Bearer ${KEY}`)).body).toBe('dashboard');
    expect((await get('/%61dmin/queues', `Bearer ${OTHER_KEY}`)).body).toBe('dashboard');
    expect((await get('/admin/queues/api/queues', basic('anyone', KEY))).body).toBe('queues');
  });

  it('does not touch routes outside the scope', async () => {
    expect((await get('/open')).statusCode).toBe(200);
  });
});
