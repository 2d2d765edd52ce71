import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** A field holding an instant: ISO 8601 text, read as a Date, or a 400 that says so. */
export function IsInstant(): PropertyDecorator {
  return applyDecorators(
    Type(() => Date),
    IsDate({ message: '$property must be an ISO 8601 date-time, such as 2026-04-16T14:05:40Z' }),
  );
}

/** `?cursor=&limit=` of every list route. */
export class PageQuery {
  @ApiPropertyOptional({
    description: 'The `nextCursor` of the previous page; absent: the first page',
  })
  @IsOptional()
  @IsString()
  cursor?: string;

  @ApiPropertyOptional({
    description: 'Items per page',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    type: 'integer',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

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
