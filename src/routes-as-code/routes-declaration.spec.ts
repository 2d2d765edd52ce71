import { SOURCE_PLUGINS } from '../sources/source-plugins';
import { SourceRegistry } from '../sources/source-registry';
import { declarationsOf } from './routes-declaration';
import { parseRoutes } from './routes-file';

const registry = new SourceRegistry(SOURCE_PLUGINS.map((plugin) => new plugin()));

function declarations(text: string) {
  return declarationsOf(parseRoutes('routes.yaml', text, {}), registry);
}

describe('declarationsOf', () => {
  it('makes the admin API create DTOs, the key standing in for a missing name', async () => {
    const result = await declarations(`
sources:
  jivo-main: { kind: jivo, allowedChannelIds: ['3948'] }
  chatwoot: { kind: chatwoot, name: Support }
subscriptions:
  crm:
    url: https://crm.example.com/hooks
    eventTypes: ['message.*']
    sources: [jivo-main, chatwoot, jivo-main]
    retryPolicy: { maxAttempts: 3 }
`);
    expect(result.problems).toEqual([]);
    expect(result.sources.map(({ key, definition }) => [key, definition.name])).toEqual([
      ['jivo-main', 'jivo-main'],
      ['chatwoot', 'Support'],
    ]);
    expect(result.subscriptions).toEqual([
      expect.objectContaining({
        key: 'crm',
        sourceKeys: ['jivo-main', 'chatwoot'],
        declaresSecret: false,
        dto: expect.objectContaining({ name: 'crm', retryPolicy: { maxAttempts: 3 } }),
      }),
    ]);
  });

  it('names each bad field by its path in the file, with the admin API message', async () => {
    const { problems } = await declarations(`
sources:
  jivo-main: { kind: jivo, allowedChannelIds: [3948], widgetIds: ['1'] }
  nameless: { name: '' }
subscriptions:
  crm:
    url: ftp://crm.example.com
    eventTypes: ['message.*']
    retryPolicy: { maxAttempts: 1000, backoff: fast }
    filter: { $where: 'true' }
`);
    expect(problems).toEqual([
      {
        field: 'sources.jivo-main.widgetIds',
        problems: ['property widgetIds should not exist'],
      },
      {
        field: 'sources.jivo-main.allowedChannelIds',
        problems: ['each value in allowedChannelIds must be a string'],
      },
      {
        field: 'sources.nameless.kind',
        problems: ['kind should not be empty', 'kind must be a string'],
      },
      { field: 'sources.nameless.name', problems: ['name should not be empty'] },
      { field: 'subscriptions.crm.url', problems: ['url must be an http(s) URL'] },
      { field: 'subscriptions.crm.filter', problems: [expect.stringContaining('$where')] },
      {
        field: 'subscriptions.crm.retryPolicy.backoff',
        problems: ['property backoff should not exist'],
      },
      {
        field: 'subscriptions.crm.retryPolicy.maxAttempts',
        problems: ['maxAttempts must not be greater than 100'],
      },
    ]);
  });

  it("refuses a secret written in the file where the source's kind declares one", async () => {
    const { problems } = await declarationsOf(
      parseRoutes(
        'routes.yaml',
        `
sources:
  literal: { kind: chatwoot, signingSecret: 'hunter2' }
  partly: { kind: chatwoot, signingSecret: 'x\${CHATWOOT_SECRET}' }
  referenced: { kind: chatwoot, signingSecret: '\${CHATWOOT_SECRET}' }
`,
        { CHATWOOT_SECRET: 'from-the-environment' },
      ),
      registry,
    );
    expect(problems).toEqual(
      ['sources.literal.signingSecret', 'sources.partly.signingSecret'].map((field) => ({
        field,
        problems: [
          'must be an environment reference such as ${CRM_SIGNING_SECRET}: secrets never live in the routes file',
        ],
      })),
    );
  });

  it('takes sources by their key in the file, never by id', async () => {
    const { problems } = await declarations(`
sources:
  jivo-main: { kind: jivo }
subscriptions:
  by-key: { url: 'https://a.example.com', eventTypes: ['*'], sources: [jivo-main, nope, 7] }
  by-id: { url: 'https://a.example.com', eventTypes: ['*'], sourceIds: [src_1] }
  not-a-list: { url: 'https://a.example.com', eventTypes: ['*'], sources: jivo-main }
`);
    expect(problems).toEqual([
      { field: 'subscriptions.by-key.sources[1]', problems: ['no source "nope" in this file'] },
      { field: 'subscriptions.by-key.sources[2]', problems: ['no source 7 in this file'] },
      {
        field: 'subscriptions.by-id.sourceIds',
        problems: ['name the sources by their key in this file instead: sources: [<key>, …]'],
      },
      { field: 'subscriptions.not-a-list.sources', problems: ['must be a list of source keys'] },
    ]);
  });
});
