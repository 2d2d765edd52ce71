import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, LessThan, Repository } from 'typeorm';
import { AppError, notFound } from '../common/app-error';
import { newId } from '../common/ids';
import { DEFAULT_PAGE_SIZE, Page, PageQuery, toPage } from '../common/pagination';
import { randomToken, secretsEqual, sha256 } from '../common/secrets';
import { ApiKeyEntity, ApiKeyScope } from './api-key.entity';
import { Principal } from './principal';

export interface ApiKeyView {
  id: string;
  name: string;
  scope: ApiKeyScope;
  sourceIds: string[];
  hint: string;
  createdAt: string;
  revokedAt: string | null;
}

/** Keys an admin mints for bots: shown once, stored hashed, revocable. */
@Injectable()
export class ApiKeysService {
  private readonly keys: Repository<ApiKeyEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.keys = dataSource.getRepository(ApiKeyEntity);
  }

  async mint(input: { name: string; sourceIds: string[] }): Promise<ApiKeyView & { key: string }> {
    const id = newId('key');
    const secret = randomToken(32);
    const key = `${id}.${secret}`;
    const saved = await this.keys.save(
      this.keys.create({
        id,
        name: input.name,
        scope: 'actions',
        sourceIds: [...new Set(input.sourceIds)],
        secretHash: sha256(secret),
        hint: key.slice(-4),
        createdAt: new Date(),
        revokedAt: null,
      }),
    );
    return { ...view(saved), key };
  }

  async list(query: PageQuery): Promise<Page<ApiKeyView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.keys.find({
      where: query.cursor ? { id: LessThan(query.cursor) } : {},
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(rows, limit, view);
  }

  async revoke(id: string): Promise<void> {
    const result = await this.keys.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (result.affected) return;
    if (!(await this.keys.existsBy({ id }))) throw notFound(`API key ${id}`);
  }

  /**
   * The principal a presented key stands for, or null: a well-formed scoped key is looked up
   * by its id, and its secret compared (hashed) in constant time.
   */
  async authenticate(presented: string): Promise<Principal | null> {
    const match = /^(key_[0-9A-HJKMNP-TV-Z]{26})\.([A-Za-z0-9_-]{10,200})$/.exec(presented);
    if (!match) return null;
    const found = await this.keys
      .createQueryBuilder('key')
      .addSelect('key.secretHash')
      .where('key.id = :id', { id: match[1] })
      .getOne()
      .catch((error: unknown) => {
        throw new AppError(
          'queue_unavailable',
          `The key cannot be checked right now (${(error as Error).message}); retry later`,
        );
      });
    const given = sha256(match[2]).toString('hex');
    const expected = found ? found.secretHash.toString('hex') : given.replace(/./g, '0');
    if (!secretsEqual(given, expected) || !found || found.revokedAt !== null) return null;
    return { kind: 'scoped', keyId: found.id, name: found.name, sourceIds: found.sourceIds };
  }
}

function view(key: ApiKeyEntity): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    scope: key.scope,
    sourceIds: key.sourceIds,
    hint: key.hint,
    createdAt: key.createdAt.toISOString(),
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}
