import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, Not, Repository } from 'typeorm';
import { SourceEntity } from './source.entity';

/** Every column but the token's hash: the settings (secrets inside) are not selected by default. */
const WITH_SETTINGS = [
  'id',
  'kind',
  'name',
  'tokenHint',
  'settings',
  'routesKey',
  'createdAt',
  'updatedAt',
] as const;

/** Every statement on the sources table; SourcesService keeps the rules. */
@Injectable()
export class SourcesRepository {
  constructor(@InjectRepository(SourceEntity) private readonly sources: Repository<SourceEntity>) {}

  insert(source: Omit<SourceEntity, 'createdAt' | 'updatedAt'>): Promise<SourceEntity> {
    return this.sources.save(this.sources.create(source));
  }

  findById(id: string): Promise<SourceEntity | null> {
    return this.sources.findOne({ where: { id }, select: [...WITH_SETTINGS] });
  }

  findByTokenHash(tokenHash: Buffer): Promise<SourceEntity | null> {
    return this.sources.findOne({ where: { tokenHash }, select: [...WITH_SETTINGS] });
  }

  /** Those the routes file declared, oldest first. */
  listManaged(): Promise<SourceEntity[]> {
    return this.sources.find({
      where: { routesKey: Not(IsNull()) },
      select: [...WITH_SETTINGS],
      order: { id: 'ASC' },
    });
  }

  /** Newest first, below `cursor` (an id) when given. */
  listPage(cursor: string | undefined, take: number): Promise<SourceEntity[]> {
    return this.sources.find({
      select: [...WITH_SETTINGS],
      where: cursor ? { id: LessThan(cursor) } : {},
      order: { id: 'DESC' },
      take,
    });
  }

  /** Writes a loaded source's name and settings back. */
  save(source: SourceEntity): Promise<SourceEntity> {
    return this.sources.save(source);
  }

  async setToken(id: string, tokenHash: Buffer, tokenHint: string): Promise<void> {
    await this.sources.update({ id }, { tokenHash, tokenHint });
  }

  /** Whether a source was there to delete. */
  async delete(id: string): Promise<boolean> {
    const result = await this.sources.delete({ id });
    return Boolean(result.affected);
  }
}
