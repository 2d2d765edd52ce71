import { ValidationPipe } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HttpErrorFilter } from '../../src/common/http-error.filter';
import { NulCharactersPipe } from '../../src/common/nul-characters.pipe';
import { BODY_VALIDATION, validationProblems } from '../../src/common/validation-problems';
import { SettingsModule } from '../../src/config/settings.module';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrations } from '../../src/database/migrate';
import { declarationsOf } from '../../src/routes-as-code/routes-declaration';
import { parseRoutes } from '../../src/routes-as-code/routes-file';
import { invalidFields } from '../../src/sources/dto/source-body';
import { SOURCE_NORMALIZERS, SourceNormalizer } from '../../src/sources/source-normalizer';
import { SOURCE_PLUGINS } from '../../src/sources/source-plugins';
import { SourceRegistry } from '../../src/sources/source-registry';
import { SourceEntity } from '../../src/sources/source.entity';
import { SourcesController } from '../../src/sources/sources.controller';
import { sourceSettingsOpenApi } from '../../src/sources/sources.openapi';
import { SourcesRepository } from '../../src/sources/sources.repository';
import { SourcesService } from '../../src/sources/sources.service';
import { AcmeNormalizer } from '../../src/sources/testing/acme.plugin';
import { testSettings } from '../support/test-settings';

/**
 * docs/adding-a-source.md, proved: a kind with settings of its own (the test-only `acme`:
 * `apiRegion`, and the secret `apiKey`) registered beside the real plug-ins, with no core
 * change. The admin API validates, stores and masks its settings; verify reads them; the
 * routes file and the OpenAPI document take them from the plug-in.
 */
describe('a source kind with settings of its own', () => {
  const PLUGINS = [...SOURCE_PLUGINS, AcmeNormalizer];
  const settings = testSettings();
  let app: NestFastifyApplication;
  let sources: SourcesService;
  let registry: SourceRegistry;

  beforeAll(async () => {
    await runMigrations(settings);
    const moduleRef = await Test.createTestingModule({
      imports: [
        SettingsModule.forRoot(settings),
        TypeOrmModule.forRoot(dataSourceOptions(settings)),
        TypeOrmModule.forFeature([SourceEntity]),
      ],
      controllers: [SourcesController],
      providers: [
        ...PLUGINS,
        {
          provide: SOURCE_NORMALIZERS,
          useFactory: (...plugins: SourceNormalizer[]) => plugins,
          inject: PLUGINS,
        },
        SourceRegistry,
        SourcesRepository,
        SourcesService,
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    app.useGlobalFilters(new HttpErrorFilter());
    app.useGlobalPipes(
      new NulCharactersPipe(),
      new ValidationPipe({
        ...BODY_VALIDATION,
        transform: true,
        exceptionFactory: (errors) => invalidFields(validationProblems(errors)),
      }),
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await app.get(DataSource).query('TRUNCATE sources CASCADE');
    sources = app.get(SourcesService);
    registry = app.get(SourceRegistry);
  });

  afterAll(async () => {
    await app?.close();
  });

  async function call(method: 'POST' | 'GET' | 'PATCH', url: string, payload?: object) {
    const response = await app.inject({ method, url, payload });
    return { status: response.statusCode, body: response.json() };
  }

  /** What the ingest path does: authenticate the token, then the plug-in's verify. */
  async function verify(token: string, headers: Record<string, string>) {
    const source = await sources.authenticate('acme', token);
    const payload = { hello: 'acme' };
    const request = { rawBody: Buffer.from(JSON.stringify(payload)), headers, payload };
    return registry.get('acme')!.verify(request, source!, new Date());
  }

  it('validates its settings, naming the field; settings of other kinds are refused', async () => {
    const invalid = await call('POST', '/api/sources', {
      kind: 'acme',
      name: 'Acme',
      apiRegion: 'mars',
      allowedChannelIds: ['1'],
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ error: 'validation_failed' });
    expect(invalid.body.details).toEqual([
      { field: 'allowedChannelIds', problems: ['property allowedChannelIds should not exist'] },
      {
        field: 'apiRegion',
        problems: ['apiRegion must be one of the following values: eu, us'],
      },
    ]);
  });

  it('stores them in settings, shows the secret once, and hands them to verify', async () => {
    const created = await call('POST', '/api/sources', {
      kind: 'acme',
      name: 'Acme',
      apiRegion: 'eu',
      apiKey: 'acme_live_9f2c',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      apiRegion: 'eu',
      apiKey: 'acme_live_9f2c',
      hasApiKey: true,
    });
    const { id, token } = created.body;

    const read = await call('GET', `/api/sources/${id}`);
    expect(read.body).toMatchObject({ kind: 'acme', apiRegion: 'eu', hasApiKey: true });
    expect(read.body).not.toHaveProperty('apiKey');
    const listed = await call('GET', '/api/sources');
    expect(listed.body.data.find((source: { id: string }) => source.id === id)).not.toHaveProperty(
      'apiKey',
    );
    const [stored] = await app
      .get(DataSource)
      .query('SELECT settings FROM sources WHERE id = $1', [id]);
    expect(stored.settings).toEqual({ apiRegion: 'eu', apiKey: 'acme_live_9f2c' });

    expect(await verify(token, { 'x-acme-region': 'eu', 'x-acme-key': 'acme_live_9f2c' })).toEqual({
      ok: true,
    });
    expect(await verify(token, { 'x-acme-region': 'us', 'x-acme-key': 'acme_live_9f2c' })).toEqual({
      ok: false,
      reason: 'region us is not eu',
    });
    expect(await verify(token, { 'x-acme-region': 'eu', 'x-acme-key': 'guess' })).toEqual({
      ok: false,
      reason: 'wrong x-acme-key',
    });

    const updated = await call('PATCH', `/api/sources/${id}`, { apiRegion: 'us', apiKey: null });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ apiRegion: 'us', hasApiKey: false });
    expect(await verify(token, { 'x-acme-region': 'us' })).toEqual({ ok: true });

    const reset = await call('PATCH', `/api/sources/${id}`, { apiRegion: null, name: 'Acme US' });
    expect(reset.body).toMatchObject({ name: 'Acme US', apiRegion: 'us' });
    const [resetRow] = await app
      .get(DataSource)
      .query('SELECT settings FROM sources WHERE id = $1', [id]);
    expect(resetRow.settings).toEqual({});

    const refused = await call('PATCH', `/api/sources/${id}`, { apiRegion: 'mars' });
    expect(refused.body.details).toEqual([
      {
        field: 'apiRegion',
        problems: ['apiRegion must be one of the following values: eu, us'],
      },
    ]);
  });

  it('takes them in the routes file, its secret only as an environment reference', async () => {
    const file = parseRoutes(
      'routes.yaml',
      `
sources:
  acme-eu: { kind: acme, apiRegion: eu, apiKey: '\${ACME_KEY}' }
  acme-literal: { kind: acme, apiKey: acme_live_9f2c }
  acme-mars: { kind: acme, apiRegion: mars }
`,
      { ACME_KEY: 'acme_live_9f2c' },
    );
    const declarations = await declarationsOf(file, registry);
    expect(declarations.problems).toEqual([
      {
        field: 'sources.acme-literal.apiKey',
        problems: [expect.stringContaining('must be an environment reference')],
      },
      {
        field: 'sources.acme-mars.apiRegion',
        problems: ['apiRegion must be one of the following values: eu, us'],
      },
    ]);
    expect(declarations.sources[0].definition).toEqual({
      kind: 'acme',
      name: 'acme-eu',
      settings: { apiRegion: 'eu', apiKey: 'acme_live_9f2c' },
    });
  });

  it('documents them in the OpenAPI document, from the plug-in', () => {
    const extension = sourceSettingsOpenApi(registry);
    const document: OpenAPIObject = SwaggerModule.createDocument(
      app,
      new DocumentBuilder().build(),
      { extraModels: extension.extraModels },
    );
    extension.amend(document);
    const schemas = document.components!.schemas as Record<string, any>;
    expect(Object.keys(schemas.AcmeSettings.properties)).toEqual(['apiRegion', 'apiKey']);
    expect(schemas.CreateSourceDto.properties.apiRegion).toMatchObject({
      enum: ['eu', 'us'],
      description: expect.stringContaining('`acme`'),
    });
    expect(schemas.CreateSourceDto.properties.apiKey).toMatchObject({ writeOnly: true });
    expect(schemas.UpdateSourceDto.properties).toHaveProperty('apiRegion');
    expect(schemas.SourceResponse.properties.hasApiKey).toMatchObject({ type: 'boolean' });
    expect(schemas.SourceResponse.properties.apiKey).not.toHaveProperty('writeOnly');
    expect(schemas.CreateSourceDto.properties.allowedChannelIds.description).toContain(
      '`jivo-bot`',
    );
  });

  it('refuses a plug-in whose setting takes the name of a source field', () => {
    class ClashingSettings {
      url: string | null = null;
    }
    const clashing: SourceNormalizer<ClashingSettings> = {
      kind: 'clashing',
      settings: { type: ClashingSettings },
      verify: () => ({ ok: true }),
      deliveryId: () => null,
      normalize: () => ({ status: 'unprocessable', reason: 'maps nothing' }),
      acceptedResponse: () => ({}),
    };
    expect(() => new SourceRegistry([clashing])).toThrow(
      'The source plug-in "clashing" has a setting named "url"',
    );
  });
});
