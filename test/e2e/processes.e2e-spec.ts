import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { AdminClient } from '../support/admin-client';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import {
  buildProject,
  freePort,
  PROJECT_ROOT,
  RouterProcess,
  startFlagsOf,
} from '../support/processes';
import { TEST_ADMIN_KEY, testEnvironment } from '../support/test-settings';
import { waitFor } from '../support/wait-for';

describe('API and worker as separate processes (npm run start:api / start:worker)', () => {
  const sink = new HttpSink();
  let api: RouterProcess;
  let worker: RouterProcess;
  let baseUrl: string;
  let admin: AdminClient;

  beforeAll(async () => {
    buildProject();
    await sink.start();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    admin = new AdminClient(baseUrl, TEST_ADMIN_KEY);
    const env = testEnvironment('proc', port);
    api = new RouterProcess({ ...env, APP_ROLE: 'api' });
    worker = new RouterProcess({ ...env, APP_ROLE: 'worker' });
    await Promise.all([api.start(/API listening on/), worker.start(/Worker started/)]);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    await sink.stop();
  });

  it('accepts while the worker is down and delivers once a worker runs again', async () => {
    const source = await admin.request('POST', '/api/sources', {
      kind: 'jivo',
      name: 'Jivo (processes)',
    });
    expect(source.status).toBe(201);
    const subscription = await admin.request('POST', '/api/subscriptions', {
      name: 'sink',
      url: `${sink.url}/processes`,
      eventTypes: ['conversation.*'],
      sourceIds: [source.body.id],
    });
    expect(subscription.status).toBe(201);

    const first = await fetch(source.body.url.replace(/^https?:\/\/[^/]+/, baseUrl), {
      method: 'POST',
      body: fixtureText('jivo', 'chat_accepted.json'),
    });
    expect(first.status).toBe(200);
    await waitFor(() => sink.requests.length === 1, 20_000);

    await worker.stop();
    const second = await fetch(`${baseUrl}/webhooks/jivo/${source.body.token}`, {
      method: 'POST',
      body: fixtureText('jivo', 'chat_finished.json'),
    });
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ result: 'ok' });
    await new Promise((done) => setTimeout(done, 300));
    expect(sink.requests).toHaveLength(1);

    await worker.start(/Worker started/);
    await waitFor(() => sink.requests.length === 2, 20_000);
    const verifier = new Webhook(subscription.body.secret);
    const types = sink.requests.map(
      (request) =>
        (verifier.verify(request.body, request.headers as Record<string, string>) as any).type,
    );
    expect(types).toEqual(['conversation.accepted', 'conversation.ended']);
  });

  it('runs the worker with the Node flags its start script, docker-compose.yml and the README give it', () => {
    const flags = startFlagsOf('worker');
    expect(flags.length).toBeGreaterThan(0);
    const commandLine = readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8').split('\0');
    expect(commandLine.slice(1, 1 + flags.length)).toEqual(flags);

    const compose = readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
    const composed = /\n {2}worker:\n(?: {4}.*\n)*? {4}command: (\[.*\])\n/.exec(compose);
    expect(composed).not.toBeNull();
    expect(JSON.parse(composed![1].replace(/'/g, '"'))).toEqual(['node', ...flags, 'dist/main.js']);

    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`APP_ROLE=worker node ${flags.join(' ')} dist/main.js`);
  });
});
