import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';

type Schema = Record<string, any>;
interface MediaType {
  schema?: Schema;
  example?: unknown;
  examples?: Record<string, { summary?: string; value: unknown }>;
}
interface Operation {
  summary?: string;
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    schema?: Schema;
    example?: unknown;
  }[];
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
  security?: Record<string, string[]>[];
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, Schema>; securitySchemes?: Record<string, Schema> };
}
interface Route {
  method: string;
  path: string;
}

const ADMIN_KEY_SCHEME = 'adminKey';
const DOCUMENTED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Every route Fastify serves for a method, read from its route tree (`printRoutes`), whatever
 * registered it (Nest controllers, plug-ins). Each one is confirmed with `hasRoute`, so a change
 * in the tree's format fails here instead of silently yielding fewer routes.
 */
function registeredRoutes(fastify: FastifyInstance): Route[] {
  const routes: Route[] = [];
  for (const method of DOCUMENTED_METHODS) {
    const segments: string[] = [];
    for (const line of fastify.printRoutes({ method, commonPrefix: false }).split('\n')) {
      const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
      if (!match) continue;
      const depth = match[1].length / 4;
      segments.length = depth;
      segments.push(match[2]);
      if (match[3]?.split(', ').includes(method)) {
        routes.push({ method, path: segments.join('') });
      }
    }
  }
  for (const route of routes) {
    // find-my-way prints a wildcard under a handler-less segment without that segment
    // (bull-board's /admin/queues/static/* shows as /admin/queues/*): not confirmable.
    if (route.path.endsWith('*')) continue;
    expect({
      ...route,
      registered: fastify.hasRoute({ method: route.method, url: route.path }),
    }).toEqual({ ...route, registered: true });
  }
  return routes;
}

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

function mediaTypes(holder: { content?: Record<string, MediaType> } | undefined): MediaType[] {
  return Object.values(holder?.content ?? {});
}

describe('OpenAPI: Swagger UI at /docs, the document at /docs/json', () => {
  let app: TestApp;
  let document: OpenApiDocument;
  let apiRoutes: Route[];

  const operationOf = (route: Route): Operation | undefined =>
    document.paths[toOpenApiPath(route.path)]?.[route.method.toLowerCase()];

  /** The schema a `$ref` points at (one level: enough for request bodies). */
  const resolveRef = (schema: Schema | undefined): Schema | undefined =>
    schema?.$ref
      ? document.components.schemas?.[String(schema.$ref).replace('#/components/schemas/', '')]
      : schema;

  beforeAll(async () => {
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    const response = await fetch(`${app.url}/docs/json`);
    document = (await response.json()) as OpenApiDocument;
    const fastify = (app.running.context as NestFastifyApplication).getHttpAdapter().getInstance();
    apiRoutes = registeredRoutes(fastify).filter((route) => route.path.startsWith('/api/'));
  });

  afterAll(async () => {
    await app?.drainQueues().catch(() => undefined);
    await app?.close();
  });

  it('serves Swagger UI without an admin key, and the scripts and styles it loads', async () => {
    const page = await fetch(`${app.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();

    const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css|png))"/g)].map(
      (match) => new URL(match[1], `${app.url}/docs`).pathname,
    );
    expect(assets).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/docs\/.*swagger-ui-bundle\.js$/),
        expect.stringMatching(/^\/docs\/.*swagger-ui\.css$/),
        expect.stringMatching(/^\/docs\/.*swagger-ui-init\.js$/),
      ]),
    );
    for (const asset of assets) {
      const response = await fetch(`${app.url}${asset}`);
      const body = await response.text();
      expect({ asset, status: response.status, empty: body.length === 0 }).toEqual({
        asset,
        status: 200,
        empty: false,
      });
    }
  });

  it('serves the OpenAPI JSON without an admin key, with the admin key as bearer scheme', async () => {
    const response = await fetch(`${app.url}/docs/json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const version = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8'))
      .version as string;
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info).toMatchObject({ title: 'webhook-router', version });
    expect(document.components.securitySchemes?.[ADMIN_KEY_SCHEME]).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });

  it('reads the routes Fastify serves', () => {
    expect(apiRoutes).toEqual(
      expect.arrayContaining([
        { method: 'POST', path: '/api/sources' },
        { method: 'GET', path: '/api/sources/:id' },
        { method: 'POST', path: '/api/sources/:id/rotate-token' },
      ]),
    );
  });

  it('documents every /api route: summary, admin key, success answer with an example, 401', () => {
    const problems: string[] = [];
    for (const route of apiRoutes) {
      const name = `${route.method} ${route.path}`;
      const operation = operationOf(route);
      if (!operation) {
        problems.push(`${name}: missing from the document`);
        continue;
      }
      if (!operation.summary?.trim()) problems.push(`${name}: no summary`);
      if (!operation.security?.some((requirement) => ADMIN_KEY_SCHEME in requirement)) {
        problems.push(`${name}: no ${ADMIN_KEY_SCHEME} security`);
      }
      const responses = Object.entries(operation.responses ?? {});
      const successes = responses.filter(([status]) => /^2\d\d$/.test(status));
      if (successes.length === 0) problems.push(`${name}: no 2xx answer`);
      for (const [status, response] of successes) {
        if (status === '204') continue;
        const documented = mediaTypes(response).some(
          (media) =>
            media.example !== undefined ||
            Object.keys(media.examples ?? {}).length > 0 ||
            media.schema !== undefined,
        );
        if (!documented) problems.push(`${name}: ${status} answer has no example or schema`);
      }
      const unauthorized = operation.responses?.['401'];
      if (!mediaTypes(unauthorized).some((media) => media.example || media.examples)) {
        problems.push(`${name}: no 401 answer with an example`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives the body of every /api POST, PUT and PATCH an example', () => {
    const problems: string[] = [];
    for (const route of apiRoutes.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method))) {
      const body = operationOf(route)?.requestBody;
      if (!body) continue; // no body (e.g. rotate-token), or already reported as missing
      const exampled = mediaTypes(body).some((media) => {
        if (media.example !== undefined || Object.keys(media.examples ?? {}).length > 0) {
          return true;
        }
        // A schema whose every property has an example lets Swagger UI build one.
        const schema = resolveRef(media.schema);
        const properties = Object.values<Schema>(schema?.properties ?? {});
        return (
          schema?.example !== undefined ||
          (properties.length > 0 && properties.every((p) => p.example !== undefined))
        );
      });
      if (!exampled) problems.push(`${route.method} ${route.path}: request body has no example`);
    }
    expect(problems).toEqual([]);
  });

  it('keeps every example valid against its own schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const problems: string[] = [];
    let checked = 0;
    const check = (where: string, media: MediaType) => {
      if (!media.schema) return;
      const validate = ajv.compile({ ...media.schema, components: document.components });
      const examples = Object.entries(media.examples ?? {}).map(([key, e]) => [key, e.value]);
      if (media.example !== undefined) examples.push(['example', media.example]);
      for (const [key, value] of examples) {
        checked += 1;
        if (!validate(value)) problems.push(`${where} ${key}: ${ajv.errorsText(validate.errors)}`);
      }
    };
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path}`;
        for (const media of mediaTypes(operation.requestBody)) check(`${name} body`, media);
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          for (const media of mediaTypes(response)) check(`${name} ${status}`, media);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('documents the inbound webhook: params, Jivo and Chatwoot bodies, every answer', () => {
    const operation = document.paths['/webhooks/{kind}/{token}']?.post;
    expect(operation?.summary).toBeTruthy();
    expect(operation?.security ?? []).toEqual([]);
    const params = operation?.parameters?.filter((p) => p.in === 'path') ?? [];
    expect(
      params
        .map((p) => [p.name, p.required, (p.example ?? p.schema?.example) !== undefined])
        .sort(),
    ).toEqual([
      ['kind', true, true],
      ['token', true, true],
    ]);
    const body = operation?.requestBody?.content?.['application/json'];
    expect(Object.keys(body?.examples ?? {})).toEqual(expect.arrayContaining(['jivo', 'chatwoot']));
    expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(
      ['200', '400', '401', '404', '413', '503'].sort(),
    );
    const ok = operation?.responses?.['200'].content?.['application/json'];
    expect(Object.values(ok?.examples ?? {}).map((e) => e.value)).toEqual(
      expect.arrayContaining([
        { result: 'ok' },
        { status: 'accepted', eventId: expect.stringMatching(/^evt_/) },
      ]),
    );
    for (const status of ['400', '401', '404', '413', '503']) {
      const media = operation?.responses?.[status].content?.['application/json'];
      const values = Object.values(media?.examples ?? {}).map((e) => e.value);
      expect(values.length).toBeGreaterThan(0);
      for (const value of values) expect(value).toMatchObject({ statusCode: Number(status) });
    }
  });

  it('documents source and webhook examples that the API accepts as shown', async () => {
    const examplesOf = (media: MediaType | undefined) =>
      Object.fromEntries(
        Object.entries(media?.examples ?? {}).map(([key, e]) => [key, e.value as any]),
      );
    const createExamples = examplesOf(
      document.paths['/api/sources'].post.requestBody?.content?.['application/json'],
    );
    const sourceSchema = resolveRef(
      document.paths['/api/sources/{id}'].get.responses?.['200'].content?.['application/json']
        .schema,
    )!;
    const created: Record<string, any> = {};
    for (const [key, example] of Object.entries(createExamples)) {
      const answer = await app.admin('POST', '/api/sources', example);
      expect({ key, status: answer.status }).toEqual({ key, status: 201 });
      expect(Object.keys(sourceSchema.properties)).toEqual(
        expect.arrayContaining(Object.keys(answer.body)),
      );
      created[key] = answer.body;
    }

    const updateExamples = examplesOf(
      document.paths['/api/sources/{id}'].patch.requestBody?.content?.['application/json'],
    );
    for (const [key, example] of Object.entries(updateExamples)) {
      const answer = await app.admin('PATCH', `/api/sources/${created.jivo.id}`, example);
      expect({ key, status: answer.status }).toEqual({ key, status: 200 });
    }

    const inbound = document.paths['/webhooks/{kind}/{token}'].post;
    const webhookExamples = examplesOf(inbound.requestBody?.content?.['application/json']);
    const jivoAnswer = await app.post(
      `/webhooks/jivo/${created.jivo.token}`,
      JSON.stringify(webhookExamples.jivo),
    );
    expect(jivoAnswer.status).toBe(200);
    expect(await jivoAnswer.json()).toEqual({ result: 'ok' });

    const chatwootBody = JSON.stringify(webhookExamples.chatwoot);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const hmac = createHmac('sha256', createExamples.chatwoot.signingSecret)
      .update(`${timestamp}.${chatwootBody}`)
      .digest('hex');
    const chatwootAnswer = await app.post(
      `/webhooks/chatwoot/${created.chatwoot.token}`,
      chatwootBody,
      {
        'content-type': 'application/json',
        'X-Chatwoot-Timestamp': timestamp,
        'X-Chatwoot-Signature': `sha256=${hmac}`,
      },
    );
    expect(chatwootAnswer.status).toBe(200);
    expect(await chatwootAnswer.json()).toEqual({
      status: 'accepted',
      eventId: expect.stringMatching(/^evt_/),
    });
    await app.drainQueues();
  });
});
