import type { CanonicalEvent } from '../canonical/canonical-event';
import type { ContactJoinMode } from '../config/settings';
import type { StoredIdentity } from './contacts.repository';
import { compareStamps, copiedStamps, Stamp } from './conversation-state';
import { pgIndexed, pgText } from './pg-values';
import { keptIfSame } from './same-value';

/**
 * What an event says about the person behind it, on its source: the identity the router keeps
 * per (source, native contact id), with the same newest-wins rule as a conversation's fields.
 */

export interface IdentityFields {
  name: string | null;
  email: string | null;
  emailNormalized: string | null;
  phone: string | null;
  phoneE164: string | null;
  description: string | null;
  avatarUrl: string | null;
  attributes: Record<string, unknown>;
}

export type IdentityField = keyof IdentityFields;

export interface IdentityInput {
  sourceId: string;
  sourceKind: string;
  /** The native contact id; without one, `email:<normalized>` or `phone:<E.164>` on the source. */
  externalId: string;
  fields: Partial<IdentityFields>;
  stamp: Stamp;
  eventId: string;
}

export interface IdentityState extends IdentityFields {
  stamps: Partial<Record<IdentityField, Stamp>>;
}

/** Lower-case and trimmed; null when it is no address at all. */
export function normalizeEmail(email: string | null): string | null {
  const normalized = email?.trim().toLowerCase() ?? '';
  return /^[^\s@]+@[^\s@]+$/.test(normalized) ? normalized : null;
}

/**
 * The identity an event's contact gives, or null when it names nobody. `userToken` is set by
 * the visitor's browser: it never identifies anyone, so it is not read here.
 */
export function identityInputOf(event: CanonicalEvent): IdentityInput | null {
  const contact = event.contact;
  if (!contact) return null;
  const emailNormalized = pgIndexed(normalizeEmail(contact.email));
  const externalId = pgIndexed(
    contact.externalId ??
      (emailNormalized ? `email:${emailNormalized}` : null) ??
      (contact.phoneE164 ? `phone:${contact.phoneE164}` : null),
  );
  if (!externalId) return null;
  const fields: Partial<IdentityFields> = {};
  if (contact.name) fields.name = pgText(contact.name);
  if (contact.email) {
    fields.email = pgText(contact.email);
    fields.emailNormalized = emailNormalized;
  }
  if (contact.phone) {
    fields.phone = pgText(contact.phone);
    fields.phoneE164 = contact.phoneE164;
  }
  if (contact.description) fields.description = pgText(contact.description);
  if (contact.avatarUrl) fields.avatarUrl = pgText(contact.avatarUrl);
  if (Object.keys(contact.attributes).length > 0) fields.attributes = contact.attributes;
  return {
    sourceId: event.source.id,
    sourceKind: event.source.kind,
    externalId,
    fields,
    stamp: [event.occurredAt, event.id],
    eventId: event.id,
  };
}

export function emptyIdentityState(): IdentityState {
  return {
    name: null,
    email: null,
    emailNormalized: null,
    phone: null,
    phoneE164: null,
    description: null,
    avatarUrl: null,
    attributes: {},
    stamps: {},
  };
}

/**
 * The identity after one more event; `changed` false when the event told nothing newer. A
 * changed state is a copy of `current` (with whatever else it holds, a stored identity's ids).
 */
export function mergeIdentity<T extends IdentityState>(
  current: T,
  input: IdentityInput,
): { state: T; changed: boolean } {
  let state = current;
  const fields = input.fields;
  for (const field in fields) {
    // emailNormalized and phoneE164 travel with email and phone, under their stamps.
    if (field === 'emailNormalized' || field === 'phoneE164') continue;
    const key = field as IdentityField;
    const previous = current.stamps[key];
    if (previous && compareStamps(input.stamp, previous) <= 0) continue;
    if (state === current) state = copiedIdentity(current);
    (state as IdentityFields)[key] = keptIfSame(current[key], fields[key]) as never;
    if (key === 'email') state.emailNormalized = fields.emailNormalized ?? null;
    if (key === 'phone') state.phoneE164 = fields.phoneE164 ?? null;
    state.stamps[key] = input.stamp;
  }
  return { state, changed: state !== current };
}

/** What a stored identity holds besides its fields. */
type IdentityIds = Pick<
  StoredIdentity,
  'id' | 'contactId' | 'sourceId' | 'externalId' | 'autoJoin'
>;

/**
 * `fields` with `stamps`, and a stored identity's `ids` when given: one object shape for every
 * identity. Spelled out, not spread: identities read, remembered and made here come in several
 * shapes, and a spread of them takes V8's slow path at every event.
 */
export function identityOf(fields: IdentityFields, stamps: IdentityState['stamps']): IdentityState;
export function identityOf(
  fields: IdentityFields,
  stamps: IdentityState['stamps'],
  ids: IdentityIds,
): StoredIdentity;
export function identityOf(
  fields: IdentityFields,
  stamps: IdentityState['stamps'],
  ids?: IdentityIds,
): IdentityState | StoredIdentity {
  const identity: IdentityState & Partial<IdentityIds> = {
    name: fields.name,
    email: fields.email,
    emailNormalized: fields.emailNormalized,
    phone: fields.phone,
    phoneE164: fields.phoneE164,
    description: fields.description,
    avatarUrl: fields.avatarUrl,
    attributes: fields.attributes,
    stamps,
  };
  if (ids) {
    // Added in this order always, so stored identities share one shape too.
    identity.id = ids.id;
    identity.contactId = ids.contactId;
    identity.sourceId = ids.sourceId;
    identity.externalId = ids.externalId;
    identity.autoJoin = ids.autoJoin;
  }
  return identity;
}

/** A copy to change, a stored identity's ids kept. */
function copiedIdentity<T extends IdentityState>(current: T): T {
  const stamps = copiedStamps(current.stamps);
  const stored = current as IdentityState & Partial<IdentityIds>;
  return (
    stored.id !== undefined
      ? identityOf(current, stamps, stored as IdentityIds)
      : identityOf(current, stamps)
  ) as T;
}

/** The values an identity may join others by, under the join mode, as `email:…` / `phone:…`. */
export function joinKeysOf(
  identity: Pick<IdentityFields, 'emailNormalized' | 'phoneE164'>,
  mode: ContactJoinMode,
): string[] {
  const keys: string[] = [];
  if ((mode === 'email' || mode === 'both') && identity.emailNormalized) {
    keys.push(`email:${identity.emailNormalized}`);
  }
  if ((mode === 'phone' || mode === 'both') && identity.phoneE164) {
    keys.push(`phone:${identity.phoneE164}`);
  }
  return keys;
}
