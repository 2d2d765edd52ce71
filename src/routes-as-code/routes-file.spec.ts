import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldProblem } from '../common/validation-problems';
import {
  parseRoutes,
  readRoutesFile,
  RoutesFile,
  RoutesFileError,
  routesFilePath,
} from './routes-file';

const ENV = { CRM_TOKEN: 'tok-1', CRM_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };

function parse(text: string, env: Record<string, string | undefined> = ENV): RoutesFile {
  return parseRoutes('routes.yaml', text, env);
}

function problemsOf(text: string, env: Record<string, string | undefined> = ENV): FieldProblem[] {
  try {
    parse(text, env);
  } catch (error) {
    if (error instanceof RoutesFileError) return error.problems;
    throw error;
  }
  throw new Error('expected the file to be refused');
}

describe('parseRoutes', () => {
  it('reads both sections into entries by key', () => {
    const file = parse(`
sources:
  jivo-main: { kind: jivo }
subscriptions:
  crm:
    url: https://crm.example.com/hooks
    eventTypes: ['*']
`);
    expect([...file.sources]).toEqual([['jivo-main', { kind: 'jivo' }]]);
    expect([...file.subscriptions]).toEqual([
      ['crm', { url: 'https://crm.example.com/hooks', eventTypes: ['*'] }],
    ]);
  });

  it('takes an empty section as declaring nothing', () => {
    const file = parse('sources:\nsubscriptions: {}\n');
    expect(file.sources.size).toBe(0);
    expect(file.subscriptions.size).toBe(0);
  });

  it('replaces ${NAME} everywhere in values, whole or embedded, at any depth', () => {
    const file = parse(`
subscriptions:
  crm:
    secret: \${CRM_SECRET}
    headers: { authorization: 'Bearer \${CRM_TOKEN}', x-literal: 'costs $$\{5}' }
    eventTypes: ['\${CRM_TOKEN}']
`);
    expect(file.subscriptions.get('crm')).toEqual({
      secret: ENV.CRM_SECRET,
      headers: { authorization: 'Bearer tok-1', 'x-literal': 'costs ${5}' },
      eventTypes: ['tok-1'],
    });
  });

  it('names every unset or empty variable at its path', () => {
    expect(
      problemsOf(
        `
sources:
  chatwoot: { kind: chatwoot, signingSecret: '\${CHATWOOT_SECRET}' }
subscriptions:
  crm:
    headers: { x-api-token: '\${MISSING_TOKEN}' }
    eventTypes: ['\${EMPTY}']
`,
        { ...ENV, EMPTY: '' },
      ),
    ).toEqual([
      {
        field: 'sources.chatwoot.signingSecret',
        problems: ['environment variable CHATWOOT_SECRET is not set'],
      },
      {
        field: 'subscriptions.crm.headers.x-api-token',
        problems: ['environment variable MISSING_TOKEN is not set'],
      },
      {
        field: 'subscriptions.crm.eventTypes[0]',
        problems: ['environment variable EMPTY is not set'],
      },
    ]);
  });

  it('refuses a reference that names no variable', () => {
    expect(problemsOf("subscriptions:\n  crm: { url: 'https://x/${crm-token}' }\n")).toEqual([
      {
        field: 'subscriptions.crm.url',
        problems: [
          '${crm-token} is not an environment reference: write ${NAME} (letters, digits, _)',
        ],
      },
    ]);
  });

  it('refuses a subscription secret written in the file (source secrets: declarationsOf)', () => {
    expect(
      problemsOf(`
subscriptions:
  crm: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }
  partly: { secret: 'whsec_\${CRM_TOKEN}' }
`),
    ).toEqual(
      ['subscriptions.crm.secret', 'subscriptions.partly.secret'].map((field) => ({
        field,
        problems: [
          'must be an environment reference such as ${CRM_SIGNING_SECRET}: secrets never live in the routes file',
        ],
      })),
    );
  });

  it('refuses unknown sections, bad keys and entries that are not maps', () => {
    expect(
      problemsOf(`
routes: {}
sources:
  'bad key': { kind: jivo }
  plain: jivo
subscriptions: [crm]
`),
    ).toEqual([
      { field: 'routes', problems: ['unknown section: the file has sources and subscriptions'] },
      {
        field: 'sources.bad key',
        problems: [
          'a key holds 1 to 100 letters, digits, _, . and -, and starts with a letter or digit',
        ],
      },
      { field: 'sources.plain', problems: ['must be a map of fields'] },
      { field: 'subscriptions', problems: ['must be a map of entries by key'] },
    ]);
  });

  it('refuses an empty file rather than read it as "manage nothing"', () => {
    expect(problemsOf('')).toEqual([
      {
        field: '(file)',
        problems: [
          'must be a map with sources and subscriptions (write `sources: {}` to declare none)',
        ],
      },
    ]);
  });

  it('reports YAML errors by line and column, duplicate keys included', () => {
    expect(problemsOf('sources:\n  a: { kind: jivo }\n  a: { kind: chatwoot }\n')).toEqual([
      { field: 'line 3, column 3', problems: ['Map keys must be unique'] },
    ]);
  });
});

describe('readRoutesFile and routesFilePath', () => {
  const dir = mkdtempSync(join(tmpdir(), 'routes-file-'));

  it('names a file it cannot read', () => {
    expect(() => readRoutesFile(join(dir, 'missing.yaml'), {})).toThrow(RoutesFileError);
  });

  it('uses ROUTES_FILE when set, else config/routes.yaml when it exists, else nothing', () => {
    expect(routesFilePath(undefined, dir)).toBeNull();
    expect(routesFilePath('ops/routes.yaml', dir)).toBe(join(dir, 'ops/routes.yaml'));
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config/routes.yaml'), 'sources: {}\n');
    expect(routesFilePath(undefined, dir)).toBe(join(dir, 'config/routes.yaml'));
    expect(readRoutesFile(join(dir, 'config/routes.yaml'), {}).sources.size).toBe(0);
  });
});
