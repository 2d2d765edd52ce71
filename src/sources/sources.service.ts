import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { AppError, notFound } from '../common/app-error';
import { newId } from '../common/ids';
import { DEFAULT_PAGE_SIZE, Page, PageQuery, toPage } from '../common/pagination';
import { newSigningSecret, randomToken, sha256 } from '../common/secrets';
import { Settings } from '../config/settings';
import { checkTarget } from '../outbound/target-guard';
import { JsonRecord } from '../canonical/coerce';
import {
  bodyRecord,
  checkCreateBody,
  checkUpdateBody,
  Checked,
  invalidFields,
  SourceDefinition,
} from './dto/source-body';
import { SourceResponse, toSourceResponse } from './dto/source.response';
import { SourceEntity } from './source.entity';
import { SourcesRepository } from './sources.repository';
import { SourceRegistry } from './source-registry';
import { ConfiguredSource } from './source-settings';
import {
  ENRICHMENT_SECRET,
  mergedSettings,
  presentedSettings,
  resolvedSettings,
  takesEnrichment,
} from './source-settings-rules';

const AUTH_CACHE_TTL_MS = 5_000;
const AUTH_CACHE_MAX_ENTRIES = 10_000;

interface CachedAuth {
  source: AuthenticatedSource | null;
  expiresAt: number;
}

/** What the ingest path knows about an authenticated source. */
export interface AuthenticatedSource extends ConfiguredSource {
  enrichment: { url: string; timeoutMs: number; secret: string } | null;
  /**
   * Answer the reply from what the router knows of the contact when no enrichment URL is set
   * (`builtinEnrichment`, docs/jivo-enrichment.md); the budget is the enrichment's.
   */
  builtinEnrichment: { timeoutMs: number } | null;
}

@Injectable()
export class SourcesService {
  /**
   * Token hash → source, so the ingest path rarely touches Postgres. Other processes see
   * changes within the TTL.
   */
  private readonly knownTokens = new Map<string, CachedAuth>();
  /**
   * Token hash → no source, for as long, so a sender (or a probe) repeating an unknown token
   * costs no query either. Kept apart, so a flood of unknown tokens never evicts known ones.
   * It cannot hide a source created or rotated meanwhile, here or in another process: a new
   * token is 24 fresh random bytes, which no request can have sent before it existed.
   */
  private readonly unknownTokens = new Map<string, CachedAuth>();

  constructor(
    private readonly sources: SourcesRepository,
    private readonly registry: SourceRegistry,
    private readonly settings: Settings,
  ) {}

  /**
   * `body`: as POST /api/sources takes it, the kind's settings beside `kind` and `name`.
   * `routesKey`: the source's key in the routes file, when routes:apply creates it.
   */
  async create(body: unknown, routesKey: string | null = null): Promise<SourceResponse> {
    const definition = this.checked(await this.checkCreate(bodyRecord(body)));
    await this.assertCreatable(definition);
    const declaration = this.registry.settingsOf(definition.kind);
    const token = randomToken();
    const enrichmentSecret = definition.settings.enrichmentUrl ? newSigningSecret() : undefined;
    const saved = await this.sources.insert({
      id: newId('src'),
      kind: definition.kind,
      name: definition.name,
      settings: mergedSettings(
        {},
        { ...definition.settings, [ENRICHMENT_SECRET]: enrichmentSecret ?? null },
      ),
      tokenHash: sha256(token),
      tokenHint: token.slice(-4),
      routesKey,
    });
    return toSourceResponse(
      saved,
      this.settings.publicBaseUrl,
      presentedSettings(declaration, saved.settings, definition.settings),
      { token, enrichmentSecret },
    );
  }

  /** A create body's problems, each named by its field: the core's, then the kind's settings'. */
  checkCreate(body: JsonRecord): Promise<Checked<SourceDefinition>> {
    return checkCreateBody(body, (kind) =>
      this.registry.get(kind) ? this.registry.settingsOf(kind) : null,
    );
  }

  /** What a create refuses beyond the body's own rules: an unknown kind, a private enrichment endpoint. */
  async assertCreatable(definition: SourceDefinition): Promise<void> {
    this.assertKnownKind(definition.kind);
    const enrichmentUrl = definition.settings.enrichmentUrl;
    if (typeof enrichmentUrl === 'string') await this.assertPublicTarget(enrichmentUrl);
  }

  /** The sources the routes file declared, with their secrets, to compare with it. */
  listManaged(): Promise<SourceEntity[]> {
    return this.sources.listManaged();
  }

  /** One page, newest first. */
  async list(query: PageQuery): Promise<Page<SourceResponse>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const sources = await this.sources.listPage(query.cursor, limit + 1);
    return toPage(sources, limit, (source) => this.present(source));
  }

  async get(id: string): Promise<SourceResponse> {
    return this.present(await this.load(id));
  }

  /** `body`: as PATCH /api/sources/:id takes it; what it leaves out does not change. */
  async update(id: string, body: unknown): Promise<SourceResponse> {
    const given = bodyRecord(body);
    const source = await this.load(id);
    const declaration = this.registry.settingsOf(source.kind);
    const change = this.checked(await checkUpdateBody(given, declaration));
    const enrichmentUrl = change.settings.enrichmentUrl;
    if (typeof enrichmentUrl === 'string') await this.assertPublicTarget(enrichmentUrl);
    if (change.name !== undefined) source.name = change.name;
    let newEnrichmentSecret: string | undefined;
    if (enrichmentUrl && takesEnrichment(declaration) && !source.settings[ENRICHMENT_SECRET]) {
      newEnrichmentSecret = newSigningSecret();
      change.settings[ENRICHMENT_SECRET] = newEnrichmentSecret;
    }
    source.settings = mergedSettings(source.settings, change.settings);
    const saved = await this.sources.save(source);
    this.knownTokens.clear();
    return toSourceResponse(
      saved,
      this.settings.publicBaseUrl,
      presentedSettings(declaration, saved.settings),
      { enrichmentSecret: newEnrichmentSecret },
    );
  }

  async remove(id: string): Promise<void> {
    if (!(await this.sources.delete(id))) throw notFound(`Source ${id}`);
    this.knownTokens.clear();
  }

  async rotateToken(id: string): Promise<SourceResponse> {
    const source = await this.load(id);
    const token = randomToken();
    await this.sources.setToken(id, sha256(token), token.slice(-4));
    this.knownTokens.clear();
    const rotated = await this.load(id);
    return toSourceResponse(rotated, this.settings.publicBaseUrl, this.presentedOf(source), {
      token,
    });
  }

  /**
   * The source a `/webhooks/:kind/:token` request belongs to, or null. Tokens are looked up
   * by their SHA-256, so no comparison ever runs over the secret itself. The kind is compared
   * after the lookup, so an unknown kind costs what an unknown token does.
   */
  async authenticate(kind: string, token: string): Promise<AuthenticatedSource | null> {
    const tokenHash = hash('sha256', token, 'buffer');
    const cacheKey = tokenHash.toString('base64');
    const now = Date.now();
    const cached = this.knownTokens.get(cacheKey) ?? this.unknownTokens.get(cacheKey);
    const source =
      cached && cached.expiresAt > now ? cached.source : await this.lookUp(tokenHash, cacheKey);
    return source?.kind === kind ? source : null;
  }

  private async lookUp(tokenHash: Buffer, cacheKey: string): Promise<AuthenticatedSource | null> {
    const found = await this.sources.findByTokenHash(tokenHash).catch((error: unknown) => {
      // Postgres is down: the sender should retry later, as when Redis is (never a 500).
      throw new AppError(
        'queue_unavailable',
        `The source cannot be looked up right now (${(error as Error).message}); retry later`,
      );
    });
    const source = found ? this.toAuthenticated(found) : null;
    const cache = source ? this.knownTokens : this.unknownTokens;
    if (cache.size >= AUTH_CACHE_MAX_ENTRIES) cache.clear();
    cache.set(cacheKey, { source, expiresAt: Date.now() + AUTH_CACHE_TTL_MS });
    return source;
  }

  private toAuthenticated(found: SourceEntity): AuthenticatedSource {
    const settings = resolvedSettings(this.registry.settingsOf(found.kind), found.settings);
    const enrichmentUrl = settings.enrichmentUrl;
    const enrichmentSecret = found.settings[ENRICHMENT_SECRET];
    return {
      id: found.id,
      kind: found.kind,
      settings,
      enrichment:
        typeof enrichmentUrl === 'string' && typeof enrichmentSecret === 'string'
          ? {
              url: enrichmentUrl,
              timeoutMs:
                (settings.enrichmentTimeoutMs as number | null) ??
                this.settings.ENRICHMENT_TIMEOUT_MS,
              secret: enrichmentSecret,
            }
          : null,
      builtinEnrichment:
        settings.builtinEnrichment === true
          ? {
              timeoutMs:
                (settings.enrichmentTimeoutMs as number | null) ??
                this.settings.ENRICHMENT_TIMEOUT_MS,
            }
          : null,
    };
  }

  /** The body's value, or a validation error naming each bad field. */
  private checked<Value>(result: Checked<Value>): Value {
    if (result.value === null) throw invalidFields(result.problems);
    return result.value;
  }

  private assertKnownKind(kind: string): void {
    if (!this.registry.get(kind)) {
      throw new AppError(
        'validation_failed',
        `kind must be one of: ${this.registry.kinds().join(', ')}`,
        [{ field: 'kind', problems: [`unknown source kind "${kind}"`] }],
      );
    }
  }

  private async assertPublicTarget(url: string): Promise<void> {
    const target = await checkTarget(url, this.settings.ALLOW_PRIVATE_TARGETS);
    if (!target.ok) {
      throw new AppError('validation_failed', target.reason, [
        { field: 'enrichmentUrl', problems: [target.reason] },
      ]);
    }
  }

  private async load(id: string): Promise<SourceEntity> {
    const source = await this.sources.findById(id);
    if (!source) throw notFound(`Source ${id}`);
    return source;
  }

  private present(source: SourceEntity): SourceResponse {
    return toSourceResponse(source, this.settings.publicBaseUrl, this.presentedOf(source));
  }

  private presentedOf(source: SourceEntity): JsonRecord {
    return presentedSettings(this.registry.settingsOf(source.kind), source.settings);
  }
}
