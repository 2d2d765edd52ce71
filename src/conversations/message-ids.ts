/** The native ids of a conversation's stored messages, as a snapshot of it knows them. */
export interface MessageIds {
  has(id: string): boolean;
  readonly size: number;
}

/** Layers a lookup walks at most before they are copied into one set. */
export const MAX_LAYERS = 8;

/**
 * The ids of an earlier version (never changed) and those the next version added. A new message
 * in a busy conversation then adds a layer instead of copying every id the conversation had
 * (up to MESSAGE_IDS_LISTED) at each event.
 */
class LayeredMessageIds implements MessageIds {
  readonly size: number;
  readonly depth: number;

  constructor(
    readonly below: MessageIds,
    readonly added: ReadonlySet<string>,
  ) {
    this.size = below.size + added.size;
    this.depth = below instanceof LayeredMessageIds ? below.depth + 1 : 1;
  }

  has(id: string): boolean {
    return this.added.has(id) || this.below.has(id);
  }
}

/** `ids` with `more`: the same object when it has them all; `ids` itself is never changed. */
export function withAllIds(ids: MessageIds | null, more: Iterable<string>): MessageIds | null {
  if (ids === null) return null;
  let added: Set<string> | null = null;
  for (const id of more) {
    if (!ids.has(id)) (added ??= new Set()).add(id);
  }
  if (added === null) return ids;
  const layered = new LayeredMessageIds(ids, added);
  return layered.depth > MAX_LAYERS ? flattened(layered) : layered;
}

function flattened(ids: LayeredMessageIds): Set<string> {
  const layers: ReadonlySet<string>[] = [];
  let at: MessageIds = ids;
  while (at instanceof LayeredMessageIds) {
    layers.push(at.added);
    at = at.below;
  }
  // The bottom is a set (made by a read, or flattened before).
  const all = new Set(at as ReadonlySet<string>);
  for (const layer of layers) for (const id of layer) all.add(id);
  return all;
}
