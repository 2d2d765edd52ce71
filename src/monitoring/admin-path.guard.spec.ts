import Fastify, { FastifyInstance } from 'fastify';
import { adminPathGuard, isAdminPath, presentedKey } from './admin-path.guard';

const KEY = 'admin-key-0123456789';
const OTHER_KEY = 'another-key-0123456789';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('isAdminPath', () => {
  it.each([
    '/admin',
    '/admin/',
    '/admin/queues',
    '/admin/queues/api/queues?x=1',
    '/%61dmin/queues',
    '/ADMIN/queues',
    '//admin/queues',
    '/x/../admin/queues',
    '/admin%2Fqueues',
    '/%E0%A4%A',
  ])('guards %s', (url) => expect(isAdminPath(url)).toBe(true));

  it.each(['/', '/api/queues', '/administrator', '/health/ready', '/webhooks/jivo/admin'])(
    'leaves %s alone',
    (url) => expect(isAdminPath(url)).toBe(false),
  );
});

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

describe('adminPathGuard on a Fastify instance', () => {
  let fastify: FastifyInstance;

  beforeAll(async () => {
    fastify = Fastify();
    fastify.addHook('onRequest', adminPathGuard([OTHER_KEY, KEY]));
    fastify.get('/admin/queues', async () => 'dashboard');
    fastify.get('/open', async () => 'open');
    await fastify.ready();
  });

  afterAll(() => fastify.close());

  const get = (url: string, authorization?: string) =>
    fastify.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });

  it('answers 401 with a Basic challenge without a key, however the path is spelled', async () => {
    for (const url of ['/admin/queues', '/%61dmin/queues', '/admin/nothing-here']) {
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
    expect((await get('/admin/queues', basic('anyone', KEY))).body).toBe('dashboard');
  });

  it('does not touch other paths', async () => {
    expect((await get('/open')).statusCode).toBe(200);
  });
});
