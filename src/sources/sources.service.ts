import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, Not, Repository } from 'typeorm';
import { AppError, notFound } from '../common/app-error';
import { newId } from '../common/ids';
import { DEFAULT_PAGE_SIZE, Page, PageQuery, toPage } from '../common/pagination';
import { newSigningSecret, randomToken, sha256 } from '../common/secrets';
import { Settings } from '../config/settings';
import { checkTarget } from '../outbound/target-guard';
import { CreateSourceDto } from './dto/create-source.dto';
import { SourceResponse, toSourceResponse } from './dto/source.response';
import { UpdateSourceDto } from './dto/update-source.dto';
import { SourceEntity } from './source.entity';
import { SourceSettings } from './source-normalizer';
import { SourceRegistry } from './source-registry';

const AUTH_CACHE_TTL_MS = 5_000;
const AUTH_CACHE_MAX_ENTRIES = 10_000;

interface CachedAuth {
  source: AuthenticatedSource | null;
  expiresAt: number;
}

const WITH_SECRETS = [
  'id',
  'kind',
  'name',
  'tokenHint',
  'signingSecret',
  'signatureHeaderPrefix',
  'allowedChannelIds',
  'enrichmentUrl',
  'enrichmentTimeoutMs',
  'enrichmentSecret',
  'routesKey',
  'createdAt',
  'updatedAt',
] as const;

/** What the ingest path knows about an authenticated source. */
export interface AuthenticatedSource extends SourceSettings {
  enrichment: { url: string; timeoutMs: number; secret: string } | null;
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
    @InjectRepository(SourceEntity) private readonly sources: Repository<SourceEntity>,
    private readonly registry: SourceRegistry,
    private readonly settings: Settings,
  ) {}

  /** `routesKey`: the source's key in the routes file, when routes:apply creates it. */
  async create(dto: CreateSourceDto, routesKey: string | null = null): Promise<SourceResponse> {
    await this.assertCreatable(dto);
    const token = randomToken();
    const enrichmentSecret = dto.enrichmentUrl ? newSigningSecret() : null;
    const saved = await this.sources.save(
      this.sources.create({
        id: newId('src'),
        kind: dto.kind,
        ...sourceColumns(dto),
        tokenHash: sha256(token),
        tokenHint: token.slice(-4),
        enrichmentSecret,
        routesKey,
      }),
    );
    return toSourceResponse(saved, this.settings.publicBaseUrl, {
      token,
      signingSecret: dto.signingSecret,
      enrichmentSecret: enrichmentSecret ?? undefined,
      hasSigningSecret: Boolean(dto.signingSecret),
    });
  }

  /** What a create refuses beyond the DTO's own rules: an unknown kind, a private enrichment endpoint. */
  async assertCreatable(dto: CreateSourceDto): Promise<void> {
    this.assertKnownKind(dto.kind);
    if (dto.enrichmentUrl) await this.assertPublicTarget(dto.enrichmentUrl);
  }

  /** The sources the routes file declared, with their secrets, to compare with it. */
  async listManaged(): Promise<SourceEntity[]> {
    return this.sources.find({
      where: { routesKey: Not(IsNull()) },
      select: [...WITH_SECRETS],
      order: { id: 'ASC' },
    });
  }

  /** One page, newest first. */
  async list(query: PageQuery): Promise<Page<SourceResponse>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const sources = await this.sources.find({
      select: [...WITH_SECRETS],
      where: query.cursor ? { id: LessThan(query.cursor) } : {},
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(sources, limit, (source) => this.present(source));
  }

  async get(id: string): Promise<SourceResponse> {
    return this.present(await this.load(id));
  }

  async update(id: string, dto: UpdateSourceDto): Promise<SourceResponse> {
    const source = await this.load(id);
    if (dto.enrichmentUrl) await this.assertPublicTarget(dto.enrichmentUrl);
    if (dto.name !== undefined) source.name = dto.name;
    if (dto.signingSecret !== undefined) source.signingSecret = dto.signingSecret;
    if (dto.signatureHeaderPrefix !== undefined) {
      source.signatureHeaderPrefix = dto.signatureHeaderPrefix;
    }
    if (dto.allowedChannelIds !== undefined) source.allowedChannelIds = dto.allowedChannelIds;
    if (dto.enrichmentTimeoutMs !== undefined) source.enrichmentTimeoutMs = dto.enrichmentTimeoutMs;
    let newEnrichmentSecret: string | undefined;
    if (dto.enrichmentUrl !== undefined) {
      source.enrichmentUrl = dto.enrichmentUrl;
      if (dto.enrichmentUrl && !source.enrichmentSecret) {
        newEnrichmentSecret = newSigningSecret();
        source.enrichmentSecret = newEnrichmentSecret;
      }
    }
    const saved = await this.sources.save(source);
    this.knownTokens.clear();
    return toSourceResponse(saved, this.settings.publicBaseUrl, {
      enrichmentSecret: newEnrichmentSecret,
      hasSigningSecret: saved.signingSecret !== null,
    });
  }

  async remove(id: string): Promise<void> {
    const result = await this.sources.delete({ id });
    if (!result.affected) throw notFound(`Source ${id}`);
    this.knownTokens.clear();
  }

  async rotateToken(id: string): Promise<SourceResponse> {
    const source = await this.load(id);
    const token = randomToken();
    await this.sources.update({ id }, { tokenHash: sha256(token), tokenHint: token.slice(-4) });
    this.knownTokens.clear();
    return toSourceResponse(await this.load(id), this.settings.publicBaseUrl, {
      token,
      hasSigningSecret: source.signingSecret !== null,
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
    const found = await this.sources
      .findOne({ where: { tokenHash }, select: [...WITH_SECRETS] })
      .catch((error: unknown) => {
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
    return {
      id: found.id,
      kind: found.kind,
      signingSecret: found.signingSecret,
      signatureHeaderPrefix: found.signatureHeaderPrefix,
      allowedChannelIds: found.allowedChannelIds,
      enrichment:
        found.enrichmentUrl && found.enrichmentSecret
          ? {
              url: found.enrichmentUrl,
              timeoutMs: found.enrichmentTimeoutMs ?? this.settings.ENRICHMENT_TIMEOUT_MS,
              secret: found.enrichmentSecret,
            }
          : null,
    };
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
    const source = await this.sources.findOne({ where: { id }, select: [...WITH_SECRETS] });
    if (!source) throw notFound(`Source ${id}`);
    return source;
  }

  private present(source: SourceEntity): SourceResponse {
    return toSourceResponse(source, this.settings.publicBaseUrl, {
      hasSigningSecret: source.signingSecret !== null,
    });
  }
}

/** The columns a create DTO sets (all but the kind, token and enrichment secret). */
export function sourceColumns(dto: CreateSourceDto) {
  return {
    name: dto.name,
    signingSecret: dto.signingSecret ?? null,
    signatureHeaderPrefix: dto.signatureHeaderPrefix ?? null,
    allowedChannelIds: dto.allowedChannelIds ?? [],
    enrichmentUrl: dto.enrichmentUrl ?? null,
    enrichmentTimeoutMs: dto.enrichmentTimeoutMs ?? null,
  } satisfies Partial<SourceEntity>;
}
