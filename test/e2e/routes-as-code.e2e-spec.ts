import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { applyRoutesCommand } from '../../src/routes-as-code/apply-routes';
import { fixtureText } from '../support/fixtures';
import { HttpSink, SinkRequest } from '../support/http-sink';
import { buildProject, PROJECT_ROOT } from '../support/processes';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-settings';
import { waitFor } from '../support/wait-for';

const SECRET_1 = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET_2 = 'whsec_2Q8ivTCdnzJbQxAQzXmI3ouvlJbVtCVd';
const DIR = mkdtempSync(join(tmpdir(), 'routes-e2e-'));
let files = 0;

/** A routes file in a temporary folder. */
function routesFile(yaml: string): string {
  const path = join(DIR, `routes-${++files}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

/** Two subscriptions on one Jivo source: `crm` with its secret and token from the environment. */
function routes({ withAudit = true, jivoKind = 'jivo' } = {}): string {
  return `
sources:
  jivo-main:
    kind: ${jivoKind}
    name: Jivo main site
    allowedChannelIds: ['3948']
subscriptions:
  crm:
    url: \${SINK_URL}/crm
    eventTypes: ['conversation.*']
    sources: [jivo-main]
    headers: { x-api-token: '\${CRM_TOKEN}' }
    secret: \${CRM_SIGNING_SECRET}
${
  withAudit
    ? `  audit:
    url: \${SINK_URL}/audit
    eventTypes: ['*']
`
    : ''
}`;
}

function verify(request: SinkRequest, secret: string): any {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  });
}

describe('routes as code: npm run routes:apply against a running router', () => {
  let app: TestApp;
  const sink = new HttpSink();
  let env: Record<string, string>;

  beforeAll(async () => {
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    await sink.start();
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      // The app's prefix: the matcher of the running app hears of every change.
      QUEUE_PREFIX: app.settings.QUEUE_PREFIX,
      ALLOW_PRIVATE_TARGETS: 'true',
      PUBLIC_BASE_URL: app.url,
      SINK_URL: sink.url,
      CRM_TOKEN: 'crm-token-1',
      CRM_SIGNING_SECRET: SECRET_1,
    };
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  beforeEach(() => {
    sink.requests.length = 0;
  });

  async function apply(path: string, args: string[] = [], extraEnv: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await applyRoutesCommand(
      ['--file', path, ...args],
      { ...env, ...extraEnv },
      { out: (line) => out.push(line), err: (line) => err.push(line) },
    );
    return { code, out, err };
  }

  async function stored() {
    const [sources, subscriptions] = await Promise.all([
      app.admin('GET', '/api/sources'),
      app.admin('GET', '/api/subscriptions'),
    ]);
    return { sources: sources.body.data as any[], subscriptions: subscriptions.body.data as any[] };
  }

  async function byKey(key: string) {
    const { sources, subscriptions } = await stored();
    return [...sources, ...subscriptions].find((object) => object.managed?.key === key);
  }

  it('prints the plan of a dry run and changes nothing', async () => {
    const result = await apply(routesFile(routes()), ['--dry-run']);

    expect(result).toEqual({
      code: 0,
      out: [
        `Routes file: ${join(DIR, `routes-${files}.yaml`)}`,
        '  + source jivo-main',
        '  + subscription crm',
        '  + subscription audit',
        'Plan: 3 to create, 0 to update, 0 unchanged, 0 to delete.',
        'Dry run: nothing was changed.',
      ],
      err: [],
    });
    expect(await stored()).toEqual({ sources: [], subscriptions: [] });
  });

  it('applies: creates, shows the URL and the secret it made once, and routes through them', async () => {
    const result = await apply(routesFile(routes()));

    expect(result.code).toBe(0);
    expect(result.out.slice(-4)).toEqual([
      'Applied.',
      'Shown once, store them now:',
      expect.stringMatching(
        new RegExp(`^  source jivo-main url: ${app.url}/webhooks/jivo/[A-Za-z0-9_-]{32}$`),
      ),
      expect.stringMatching(/^ {2}subscription audit secret: whsec_\S+$/),
    ]);
    // What came from the environment is never printed.
    expect(result.out.join('\n')).not.toMatch(new RegExp(`${SECRET_1}|crm-token-1`));
    const url = result.out.at(-2)!.split(' url: ')[1];
    const auditSecret = result.out.at(-1)!.split(' secret: ')[1];

    const answer = await fetch(url, {
      method: 'POST',
      body: fixtureText('jivo', 'chat_accepted.json'),
    });
    expect(answer.status).toBe(200);
    await waitFor(() => sink.requests.length >= 2);
    await app.drainQueues();
    const crm = sink.requests.find((request) => request.path === '/crm')!;
    const audit = sink.requests.find((request) => request.path === '/audit')!;
    expect(crm.headers['x-api-token']).toBe('crm-token-1');
    expect(verify(crm, SECRET_1).type).toBe('conversation.accepted');
    expect(verify(audit, auditSecret).type).toBe('conversation.accepted');
  });

  it('says in the read models that the file manages them', async () => {
    const { sources, subscriptions } = await stored();
    expect(sources).toEqual([
      expect.objectContaining({
        kind: 'jivo',
        name: 'Jivo main site',
        allowedChannelIds: ['3948'],
        managed: { by: 'routes-file', key: 'jivo-main' },
      }),
    ]);
    expect(subscriptions.map((subscription) => subscription.managed).sort(byManagedKey)).toEqual([
      { by: 'routes-file', key: 'audit' },
      { by: 'routes-file', key: 'crm' },
    ]);
    const crm = await byKey('crm');
    expect(crm.sourceIds).toEqual([sources[0].id]);
    const single = await app.admin('GET', `/api/subscriptions/${crm.id}`);
    expect(single.body.managed).toEqual({ by: 'routes-file', key: 'crm' });
  });

  it('changes nothing when applied again', async () => {
    const before = await stored();
    const result = await apply(routesFile(routes()));

    expect(result.code).toBe(0);
    expect(result.out.slice(1)).toEqual([
      `  = source jivo-main (${before.sources[0].id})`,
      `  = subscription crm (${(await byKey('crm')).id})`,
      `  = subscription audit (${(await byKey('audit')).id})`,
      'Plan: 0 to create, 0 to update, 3 unchanged, 0 to delete.',
      'Nothing to change: the database matches the file.',
    ]);
    expect(await stored()).toEqual(before);
  });

  it('undoes changes made through the API and rotates to a new secret value', async () => {
    const crm = await byKey('crm');
    const patched = await app.admin('PATCH', `/api/subscriptions/${crm.id}`, {
      url: `${sink.url}/elsewhere`,
    });
    expect(patched.body.managed).toEqual({ by: 'routes-file', key: 'crm' });
    const path = routesFile(routes());

    const plan = await apply(path, ['--dry-run'], { CRM_SIGNING_SECRET: SECRET_2 });
    expect(plan.out).toContain(`  ~ subscription crm (${crm.id}): url, secret`);
    expect((await byKey('crm')).url).toBe(`${sink.url}/elsewhere`);

    const result = await apply(path, [], { CRM_SIGNING_SECRET: SECRET_2 });
    expect(result.out).toContain('Applied.');
    expect(result.out.join('\n')).not.toContain(SECRET_2);
    expect(await byKey('crm')).toMatchObject({
      url: `${sink.url}/crm`,
      previousSecretExpiresAt: expect.any(String),
    });

    const source = (await stored()).sources[0];
    const token = await app.admin('POST', `/api/sources/${source.id}/rotate-token`);
    await app.post(`/webhooks/jivo/${token.body.token}`, fixtureText('jivo', 'chat_updated.json'));
    await waitFor(() => sink.requests.some((request) => request.path === '/crm'));
    const delivered = sink.requests.find((request) => request.path === '/crm')!;
    expect(verify(delivered, SECRET_2).type).toBe('conversation.updated');

    const again = await apply(path, [], { CRM_SIGNING_SECRET: SECRET_2 });
    expect(again.out.at(-1)).toBe('Nothing to change: the database matches the file.');
    env.CRM_SIGNING_SECRET = SECRET_2;
  });

  it('keeps what the file no longer declares, deletes it with --prune, and never touches API objects', async () => {
    const manual = await app.admin('POST', '/api/subscriptions', {
      name: 'made by hand',
      url: `${sink.url}/manual`,
      eventTypes: ['*'],
    });
    expect(manual.body.managed).toBeNull();
    const audit = await byKey('audit');
    const path = routesFile(routes({ withAudit: false }));

    const kept = await apply(path);
    expect(kept.out).toContain(
      `  ! subscription audit (${audit.id}) [no longer in the file: kept (--prune deletes it)]`,
    );
    expect(kept.out).toContain(
      'Plan: 0 to create, 0 to update, 2 unchanged, 0 to delete, 1 no longer declared (kept).',
    );
    expect(await byKey('audit')).toBeDefined();

    const pruned = await apply(path, ['--prune']);
    expect(pruned.out).toContain(`  - subscription audit (${audit.id})`);
    expect(pruned.out).toContain('Plan: 0 to create, 0 to update, 2 unchanged, 1 to delete.');
    const { sources, subscriptions } = await stored();
    expect(await byKey('audit')).toBeUndefined();
    expect(sources).toHaveLength(1);
    expect(subscriptions.map((subscription) => subscription.name).sort()).toEqual([
      'crm',
      'made by hand',
    ]);
  });

  it('refuses a bad file, naming every problem by its path, and changes nothing', async () => {
    const before = await stored();
    const path = routesFile(`
sources:
  jivo-main:
    kind: jivo
    allowedChannelIds: [3948]
    widgetIds: ['3948']
  zen:
    kind: zendesk
subscriptions:
  crm:
    url: ftp://crm.example.com
    eventTypes: ['conversation.*']
    sources: [jivo-main, jivo-other]
    retryPolicy: { maxAttempts: 0 }
  fresh:
    url: \${SINK_URL}/fresh
    eventTypes: ['*']
    payloadFormat: transformed
`);

    const result = await apply(path, ['--prune']);

    expect(result).toEqual({
      code: 1,
      out: [],
      err: [
        `${path}: 7 problems, nothing was changed:`,
        '  sources.jivo-main.widgetIds: property widgetIds should not exist',
        '  sources.jivo-main.allowedChannelIds: each value in allowedChannelIds must be a string',
        '  subscriptions.crm.sources[1]: no source "jivo-other" in this file',
        '  subscriptions.crm.url: url must be an http(s) URL',
        '  subscriptions.crm.retryPolicy.maxAttempts: maxAttempts must not be less than 1',
        '  sources.zen.kind: unknown source kind "zendesk"',
        '  subscriptions.fresh.transform: transform is required when payloadFormat is "transformed"',
      ],
    });
    expect(await stored()).toEqual(before);
  });

  it('names a missing secret reference, and changes nothing', async () => {
    const before = await stored();
    const { CRM_SIGNING_SECRET: _unset, ...withoutSecret } = env;
    const out: string[] = [];
    const err: string[] = [];
    const path = routesFile(routes());

    const code = await applyRoutesCommand(['--file', path], withoutSecret, {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    });

    expect({ code, out, err }).toEqual({
      code: 1,
      out: [],
      err: [
        `${path}: 1 problem, nothing was changed:`,
        '  subscriptions.crm.secret: environment variable CRM_SIGNING_SECRET is not set',
      ],
    });
    expect(await stored()).toEqual(before);
  });

  it('refuses to change the kind of a source under the same key', async () => {
    const before = await stored();
    const path = routesFile(routes({ withAudit: false, jivoKind: 'jivo-bot' }));

    const result = await apply(path);

    expect(result.code).toBe(1);
    expect(result.err).toEqual([
      `${path}: 1 problem, nothing was changed:`,
      '  sources.jivo-main.kind: cannot change from jivo to jivo-bot: declare the new source under a new key',
    ]);
    expect(await stored()).toEqual(before);
  });
});

describe('routes as code at boot (ROUTES_APPLY_ON_START)', () => {
  const sink = new HttpSink();
  const apps: TestApp[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    await sink.start();
    env = { SINK_URL: sink.url, CRM_TOKEN: 'crm-token-1', CRM_SIGNING_SECRET: SECRET_1 };
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    await sink.stop();
  });

  it('applies the file once, however many API processes start together', async () => {
    const first = await startTestApp();
    apps.push(first);
    await resetDatabase(first.dataSource);
    await first.close();
    apps.length = 0;
    const bootSettings = { ROUTES_APPLY_ON_START: 'true', ROUTES_FILE: routesFile(routes()) };

    const started = await Promise.allSettled([
      startTestApp(bootSettings, env),
      startTestApp(bootSettings, env),
      startTestApp({ ...bootSettings, APP_ROLE: 'api' }, env),
    ]);
    for (const result of started) if (result.status === 'fulfilled') apps.push(result.value);

    expect(started.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const [sources, subscriptions] = await Promise.all([
      apps[0].dataSource.query('SELECT routes_key FROM sources'),
      apps[0].dataSource.query('SELECT routes_key FROM subscriptions ORDER BY routes_key'),
    ]);
    expect(sources).toEqual([{ routes_key: 'jivo-main' }]);
    expect(subscriptions).toEqual([{ routes_key: 'audit' }, { routes_key: 'crm' }]);
  });

  it('leaves the file to the API role: a worker starts without applying it', async () => {
    const worker = await startTestApp(
      { APP_ROLE: 'worker', ROUTES_APPLY_ON_START: 'true', ROUTES_FILE: join(DIR, 'absent.yaml') },
      env,
    );
    apps.push(worker);
    expect(worker.running.url).toBeNull();
  });

  it('stops the boot on a refused file, naming its problems', async () => {
    const path = routesFile(routes());
    await expect(
      startTestApp({ ROUTES_APPLY_ON_START: 'true', ROUTES_FILE: path }, { SINK_URL: sink.url }),
    ).rejects.toThrow(
      [
        `${path}: 2 problems, nothing was changed:`,
        '  subscriptions.crm.headers.x-api-token: environment variable CRM_TOKEN is not set',
        '  subscriptions.crm.secret: environment variable CRM_SIGNING_SECRET is not set',
      ].join('\n'),
    );
  });
});

describe('routes:apply as a command (node dist/routes-as-code/apply-routes.js)', () => {
  const run = promisify(execFile);

  beforeAll(() => buildProject());

  async function command(args: string[], env: Record<string, string>) {
    return run(process.execPath, ['dist/routes-as-code/apply-routes.js', ...args], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  }

  it('exits 0 with the plan, and 1 with the problems of a bad file', async () => {
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: 'routes_command_test',
      ALLOW_PRIVATE_TARGETS: 'true',
      SINK_URL: 'http://127.0.0.1:9',
      CRM_TOKEN: 'crm-token-1',
      CRM_SIGNING_SECRET: SECRET_1,
    };
    const planned = await command(['--file', routesFile(routes()), '--dry-run'], env);
    expect(planned).toMatchObject({ code: 0, stderr: '' });
    expect(planned.stdout).toMatch(/^Plan: \d+ to create, .*\nDry run: nothing was changed\.\n$/m);

    const badPath = routesFile('sources:\n  jivo-main: { kind: jivo, allowedChannelIds: [1] }\n');
    const refused = await command(['--file', badPath], env);
    expect(refused).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        `${badPath}: 1 problem, nothing was changed:\n` +
        '  sources.jivo-main.allowedChannelIds: each value in allowedChannelIds must be a string\n',
    });

    const usage = await command(['--files', 'x'], env);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('Usage: npm run routes:apply');
  });
});

function byManagedKey(a: { key: string }, b: { key: string }): number {
  return a.key.localeCompare(b.key);
}
