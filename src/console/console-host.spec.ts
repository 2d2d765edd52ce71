import Fastify, { FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_CONTENT_SECURITY_POLICY, mountConsole } from './console-host';

describe('mountConsole', () => {
  let buildDir: string;
  let server: FastifyInstance;

  beforeAll(() => {
    buildDir = mkdtempSync(join(tmpdir(), 'console-build-'));
    mkdirSync(join(buildDir, 'assets'));
    writeFileSync(join(buildDir, 'index.html'), '<div id="root"></div>');
    writeFileSync(join(buildDir, 'assets', 'index-abc.js'), 'console.log(1)');
  });

  afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

  afterEach(() => server.close());

  async function serve(dir: string): Promise<FastifyInstance> {
    server = Fastify();
    server.get('/webhooks/x', () => ({ ok: true }));
    mountConsole(server, dir);
    await server.ready();
    return server;
  }

  it('answers the page for /console, its deep links, and the files as they are', async () => {
    await serve(buildDir);
    for (const url of ['/console', '/console/', '/console/events/evt_1', '/console/a/b/c']) {
      const page = await server.inject({ url });
      expect([url, page.statusCode, page.body]).toEqual([url, 200, '<div id="root"></div>']);
      expect(page.headers['content-security-policy']).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
      expect(page.headers['cache-control']).toBe('no-cache');
    }
    const asset = await server.inject({ url: '/console/assets/index-abc.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.body).toBe('console.log(1)');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['content-security-policy']).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
  });

  it('answers a missing asset with a 404, not the page', async () => {
    await serve(buildDir);
    const missing = await server.inject({ url: '/console/assets/index-old.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found' });
  });

  it('leaves other routes alone', async () => {
    await serve(buildDir);
    const other = await server.inject({ url: '/webhooks/x' });
    expect(other.headers['content-security-policy']).toBeUndefined();
    expect((await server.inject({ url: '/consoles' })).statusCode).toBe(404);
  });

  it('says so when the console was not built', async () => {
    await serve(join(buildDir, 'nowhere'));
    for (const url of ['/console/', '/console/events/evt_1']) {
      const answer = await server.inject({ url });
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toMatchObject({ error: 'console_not_built' });
    }
  });
});
