import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

export class PageQuery {
  /** The `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;

/** Rows were fetched newest first with one extra row; the extra one says whether more follow. */
export function toPage<T extends { id: string }, R>(
  rows: T[],
  limit: number,
  present: (row: T) => R,
): Page<R> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  return {
    data: pageRows.map(present),
    nextCursor: hasMore ? pageRows[pageRows.length - 1].id : null,
  };
}
