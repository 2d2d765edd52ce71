import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

export type IdPrefix = 'evt' | 'src' | 'sub' | 'dlv';

/** Sortable, unique ids (`evt_01JD…`): the ULID's time prefix makes newest-first paging cheap. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid()}`;
}
