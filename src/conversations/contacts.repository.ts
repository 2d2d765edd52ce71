import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { newId } from '../common/ids';
import type { ContactJoinMode } from '../config/settings';
import { IdentityInput, IdentityState } from './contact-identity';
import { pgJson } from './pg-values';
import type { StatementCompanion } from '../events/events.repository';
import { ContactEntity, ContactIdentityEntity, ContactLinkEntity } from './contact.entity';

export interface StoredIdentity extends IdentityState {
  id: string;
  contactId: string;
  sourceId: string;
  externalId: string;
  autoJoin: boolean;
}

export interface ContactRowQuery {
  q?: string;
  email?: string;
  phoneE164?: string;
  sourceId?: string;
  cursor?: string;
  take: number;
}

export interface SharedContact {
  contactId: string;
  reason: 'email' | 'phone';
  value: string;
}

export interface IdentitiesWithSharing {
  identities: StoredIdentity[];
  /** Per candidate, the contacts sharing its email or phone, by contact id. */
  sharing: SharedContact[][];
  /** The ids of the new identities inserted (`insertIfAlone`). */
  inserted: Set<string>;
  /**
   * The candidates of `insertIfAlone` whose contact was made but whose identity was not: another
   * worker stored it first.
   */
  orphaned: Set<number>;
}

/**
 * A known identity's newer fields (its email and phone, which joins go by, as they were),
 * written with the event's statement if its field stamps are still those read; `inputs` are
 * what the fields were merged from, applied again under locks when the stamps moved.
 */
export interface KnownIdentityWrite {
  identity: StoredIdentity;
  readStamps: IdentityState['stamps'];
  inputs: IdentityInput[];
}

export const IDENTITY_CHANGED_CONCURRENTLY = 'contact identity changed concurrently';
export const IDENTITY_NOT_AS_REMEMBERED = 'contact identity not as remembered';
export const IDENTITY_SHARED_CONCURRENTLY = 'contact identity shared concurrently';

/** A new identity in a new contact of its own, made unless it exists or shares a key. */
export interface AlonePlan {
  /** Its candidate's index. */
  idx: number;
  identityId: string;
  contactId: string;
  input: IdentityInput;
  state: IdentityState;
}

/** A row of a read made of several owners' parts: which part, an index, the row as JSON. */
export interface KindedRow {
  kind: string;
  idx: number | null;
  row: Record<string, unknown>;
}

/** A read another owner's statement carries: its UNION ALL part, parameters, and its reading. */
export interface StatementReadPart<T> {
  /** `SELECT kind, idx, row …` (rows whose kind is the part's own), from `firstParam`. */
  sql(firstParam: number): string;
  /** `name AS (…)` CTEs the part's SELECT reads, same parameters. */
  ctes(firstParam: number): string;
  params: unknown[];
  /** Reads the rows of the whole statement, skipping those of other kinds. */
  read(rows: KindedRow[]): T;
}

/**
 * Inserts the identities of a CTE with the planned columns (`identity_id`, `contact_id`, …), each
 * unless its source already has it; answers the ids inserted.
 */
function insertIdentitiesFrom(cte: string): string {
  return `INSERT INTO contact_identities (id, contact_id, source_id, source_kind, external_id, name,
                                  email, email_normalized, phone, phone_e164, description,
                                  avatar_url, attributes, field_stamps)
  SELECT identity_id, contact_id, source_id, source_kind, external_id, name, email,
         email_normalized, phone, phone_e164, description, avatar_url, attributes, field_stamps
    FROM ${cte}
  ON CONFLICT (source_id, external_id) DO NOTHING
  RETURNING id`;
}

/**
 * CTEs that fill the empty name, email and phone of the contacts new identities joined
 * (`cte`: the planned identities with `contact_id`, `name`, `email`, `phone_e164` and a
 * `joins` flag; `inserted`: the CTE returning the ids inserted), each from its first joining
 * identity that has one. Only a contact with a field to fill is locked, in id order.
 */
function joinedContactsFilled(cte: string, inserted: string): string {
  const first = (column: string) =>
    `(array_agg(j.${column} ORDER BY j.identity_id) FILTER (WHERE j.${column} IS NOT NULL))[1]`;
  return `joined_fill AS (
         SELECT j.contact_id, ${first('name')} AS name, ${first('email')} AS email,
                ${first('phone_e164')} AS phone_e164
           FROM ${cte} j JOIN ${inserted} ON ${inserted}.id = j.identity_id
          WHERE j.joins
          GROUP BY j.contact_id
       ), joined_locked AS MATERIALIZED (
         SELECT c.id FROM contacts c JOIN joined_fill f ON f.contact_id = c.id
          WHERE (c.name IS NULL AND f.name IS NOT NULL)
             OR (c.email IS NULL AND f.email IS NOT NULL)
             OR (c.phone_e164 IS NULL AND f.phone_e164 IS NOT NULL)
          ORDER BY c.id FOR UPDATE OF c
       ), joined_filled AS (
         UPDATE contacts c SET name = coalesce(c.name, f.name), email = coalesce(c.email, f.email),
                phone_e164 = coalesce(c.phone_e164, f.phone_e164), updated_at = now()
           FROM joined_fill f JOIN joined_locked l ON l.id = f.contact_id
          WHERE c.id = f.contact_id
       )`;
}

/** A planned contact's field (`p`), else the first planned identity joining it that has one. */
function plannedFirst(column: string): string {
  return `coalesce(p.${column}, (SELECT j.${column} FROM plan j
                    WHERE j.contact_id = p.contact_id AND j.${column} IS NOT NULL
                    ORDER BY j.identity_id LIMIT 1))`;
}

const IDENTITY_COLUMNS = `id, contact_id AS "contactId", source_id AS "sourceId",
  external_id AS "externalId", name, email, email_normalized AS "emailNormalized", phone,
  phone_e164 AS "phoneE164", description, avatar_url AS "avatarUrl", attributes,
  field_stamps AS stamps, auto_join AS "autoJoin"`;

/** The one owner of the contacts tables' SQL: contacts, identities and the join log. */
@Injectable()
export class ContactsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async identitiesByNativeId(
    keys: readonly { sourceId: string; externalId: string }[],
    manager: EntityManager = this.dataSource.manager,
    lock = false,
  ): Promise<StoredIdentity[]> {
    if (keys.length === 0) return [];
    return (await manager.query(
      `SELECT ${IDENTITY_COLUMNS} FROM contact_identities
        WHERE (source_id, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        ORDER BY id ${lock ? 'FOR UPDATE' : ''}`,
      [keys.map((key) => key.sourceId), keys.map((key) => key.externalId)],
    )) as StoredIdentity[];
  }

  /**
   * The stored identities of these inputs and, for each of `candidates` (as the join mode
   * allows), the contacts sharing its email or phone: one statement.
   */
  async identitiesWithSharing(
    keys: readonly { sourceId: string; externalId: string }[],
    candidates: { emailNormalized: string | null; phoneE164: string | null }[],
    mode: ContactJoinMode,
  ): Promise<IdentitiesWithSharing> {
    return this.readAlone(this.identitiesWithSharingPart(keys, candidates, mode, []));
  }

  /** A read part run as a statement of its own. */
  async readAlone<T>(part: StatementReadPart<T>): Promise<T> {
    const rows = await this.dataSource.query(`WITH ${part.ctes(1)} ${part.sql(1)}`, part.params);
    return part.read(rows as KindedRow[]);
  }

  /**
   * The same read as a part of another owner's statement (UNION ALL of `kind, idx, row`), so
   * the worker reads identities and conversations in one round trip. The same statement
   * inserts each of `insertIfAlone` (a new person, the common case) when, as read, its
   * identity is not stored and no stored identity shares its email or phone (as the join
   * mode allows); the others are left to the caller. A concurrent worker's identity sharing
   * a key is not seen here: the caller looks again after (ConversationResolver).
   */
  identitiesWithSharingPart(
    keys: readonly { sourceId: string; externalId: string }[],
    candidates: { emailNormalized: string | null; phoneE164: string | null }[],
    mode: ContactJoinMode,
    insertIfAlone: AlonePlan[],
  ): StatementReadPart<IdentitiesWithSharing> {
    const byEmail = mode === 'email' || mode === 'both';
    const byPhone = mode === 'phone' || mode === 'both';
    return {
      ctes: (first) => `
       alone_plan AS (
         SELECT * FROM jsonb_to_recordset($${first + 5}::jsonb) AS p (
           idx int, identity_id text, contact_id text, source_id text, source_kind text,
           external_id text, name text, email text, email_normalized text, phone text,
           phone_e164 text, description text, avatar_url text, attributes jsonb,
           field_stamps jsonb, event_id text, join_email text, join_phone text)
       ), alone AS (
         -- Index probes per planned identity (LIMIT keeps each a probe): as a join or EXISTS,
         -- a plan made while the table was small hashes all of it, at every read after.
         SELECT p.* FROM alone_plan p
           LEFT JOIN LATERAL (SELECT true AS taken FROM contact_identities i
                               WHERE i.email_normalized = p.join_email AND i.auto_join
                               LIMIT 1) by_email ON true
           LEFT JOIN LATERAL (SELECT true AS taken FROM contact_identities i
                               WHERE i.phone_e164 = p.join_phone AND i.auto_join
                               LIMIT 1) by_phone ON true
           LEFT JOIN LATERAL (SELECT true AS taken FROM contact_identities i
                               WHERE i.source_id = p.source_id AND i.external_id = p.external_id
                               LIMIT 1) stored ON true
          WHERE by_email.taken IS NULL AND by_phone.taken IS NULL AND stored.taken IS NULL
       ), alone_contact AS (
         INSERT INTO contacts (id, name, email, phone_e164)
         SELECT contact_id, name, email, phone_e164 FROM alone
       ), alone_identity AS (
         ${insertIdentitiesFrom('alone')}
       ), alone_link AS (
         INSERT INTO contact_links (contact_id, identity_id, reason, value, event_id)
         SELECT alone.contact_id, alone.identity_id, 'created', NULL, alone.event_id
           FROM alone JOIN alone_identity ON alone_identity.id = alone.identity_id
       )`,
      sql: (first) => {
        const $ = (offset: number) => `$${first + offset}`;
        return `SELECT 'inserted' AS kind, NULL::int AS idx, jsonb_build_object('id', id) AS row
         FROM alone_identity
       UNION ALL
       SELECT 'orphaned', idx, NULL FROM alone
        WHERE identity_id NOT IN (SELECT id FROM alone_identity)
       UNION ALL
       SELECT 'identity', NULL, to_jsonb(found)
         FROM (SELECT DISTINCT * FROM unnest(${$(0)}::text[], ${$(1)}::text[])
                 AS k (source_id, external_id)) k
         CROSS JOIN LATERAL (SELECT ${IDENTITY_COLUMNS} FROM contact_identities i
                              WHERE i.source_id = k.source_id AND i.external_id = k.external_id
                              LIMIT 1) found
       UNION ALL
       SELECT 'sharing', i.idx, to_jsonb(s)
         FROM unnest(${$(2)}::int[], ${$(3)}::text[], ${$(4)}::text[]) AS i (idx, email, phone)
         CROSS JOIN LATERAL (
           SELECT DISTINCT ON (contact_id) contact_id AS "contactId", reason, value
             FROM ((SELECT contact_id, 'email' AS reason, i.email AS value FROM contact_identities
                     WHERE i.email IS NOT NULL AND email_normalized = i.email AND auto_join LIMIT 50)
                   UNION ALL
                   (SELECT contact_id, 'phone', i.phone FROM contact_identities
                     WHERE i.phone IS NOT NULL AND phone_e164 = i.phone AND auto_join LIMIT 50)) shared
            ORDER BY contact_id, reason) s`;
      },
      params: [
        keys.map((key) => key.sourceId),
        keys.map((key) => key.externalId),
        candidates.map((_, index) => index),
        candidates.map((candidate) => (byEmail ? candidate.emailNormalized : null)),
        candidates.map((candidate) => (byPhone ? candidate.phoneE164 : null)),
        pgJson(
          insertIfAlone.map((plan) => ({
            idx: plan.idx,
            identity_id: plan.identityId,
            contact_id: plan.contactId,
            source_id: plan.input.sourceId,
            source_kind: plan.input.sourceKind,
            external_id: plan.input.externalId,
            name: plan.state.name,
            email: plan.state.email,
            email_normalized: plan.state.emailNormalized,
            phone: plan.state.phone,
            phone_e164: plan.state.phoneE164,
            description: plan.state.description,
            avatar_url: plan.state.avatarUrl,
            attributes: plan.state.attributes,
            field_stamps: plan.state.stamps,
            event_id: plan.input.eventId,
            join_email: byEmail ? plan.state.emailNormalized : null,
            join_phone: byPhone ? plan.state.phoneE164 : null,
          })),
        ),
      ],
      read: (rows) => {
        const identities: StoredIdentity[] = [];
        const sharing = candidates.map(() => [] as SharedContact[]);
        const inserted = new Set<string>();
        const orphaned = new Set<number>();
        for (const { kind, idx, row } of rows) {
          if (kind === 'identity') identities.push(row as unknown as StoredIdentity);
          else if (kind === 'sharing') sharing[idx!].push(row as unknown as SharedContact);
          else if (kind === 'inserted') inserted.add(String(row.id));
          else if (kind === 'orphaned') orphaned.add(idx!);
        }
        for (const list of sharing) list.sort((a, b) => (a.contactId < b.contactId ? -1 : 1));
        return { identities, sharing, inserted, orphaned };
      },
    };
  }

  /** Serializes the joins on these emails and phones across workers until the transaction ends. */
  async lockJoinKeys(manager: EntityManager, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await manager.query(
      `SELECT pg_advisory_xact_lock(hashtextextended(key, 0))
         FROM (SELECT DISTINCT key FROM unnest($1::text[]) AS key ORDER BY key) ordered`,
      [keys],
    );
  }

  /** The contacts other identities that may be joined (not split out by hand) share a key with. */
  async contactsSharing(
    manager: EntityManager,
    identity: { emailNormalized: string | null; phoneE164: string | null },
    mode: ContactJoinMode,
    exceptContactId: string | null,
  ): Promise<{ contactId: string; reason: 'email' | 'phone'; value: string }[]> {
    const email = mode === 'email' || mode === 'both' ? identity.emailNormalized : null;
    const phone = mode === 'phone' || mode === 'both' ? identity.phoneE164 : null;
    if (!email && !phone) return [];
    // Identities sharing a key are one contact already (but for hand-made splits), so a few
    // rows of each key find every contact without reading all of a big one's identities.
    return (await manager.query(
      `SELECT DISTINCT ON (contact_id) contact_id AS "contactId", reason, value
         FROM ((SELECT contact_id, 'email' AS reason, $1 AS value FROM contact_identities
                 WHERE $1::text IS NOT NULL AND email_normalized = $1 AND auto_join
                   AND contact_id IS DISTINCT FROM $3 LIMIT 50)
               UNION ALL
               (SELECT contact_id, 'phone', $2 FROM contact_identities
                 WHERE $2::text IS NOT NULL AND phone_e164 = $2 AND auto_join
                   AND contact_id IS DISTINCT FROM $3 LIMIT 50)) sharing
        ORDER BY contact_id, reason`,
      [email, phone, exceptContactId],
    )) as { contactId: string; reason: 'email' | 'phone'; value: string }[];
  }

  /**
   * For each identity (its normalized email and E.164 phone, as the join mode allows), the
   * contacts other identities sharing them belong to: one statement for many.
   */
  async contactsSharingMany(
    manager: EntityManager | undefined,
    identities: { emailNormalized: string | null; phoneE164: string | null }[],
    mode: ContactJoinMode,
  ): Promise<{ contactId: string; reason: 'email' | 'phone'; value: string }[][]> {
    const byEmail = mode === 'email' || mode === 'both';
    const byPhone = mode === 'phone' || mode === 'both';
    const sharing = identities.map(
      () => [] as { contactId: string; reason: 'email' | 'phone'; value: string }[],
    );
    if (
      !identities.some(
        (identity) => (byEmail && identity.emailNormalized) || (byPhone && identity.phoneE164),
      )
    ) {
      return sharing;
    }
    const rows = (await (manager ?? this.dataSource.manager).query(
      `SELECT i.idx, s.contact_id AS "contactId", s.reason, s.value
         FROM unnest($1::int[], $2::text[], $3::text[]) AS i (idx, email, phone)
         CROSS JOIN LATERAL (
           SELECT DISTINCT ON (contact_id) contact_id, reason, value
             FROM ((SELECT contact_id, 'email' AS reason, i.email AS value FROM contact_identities
                     WHERE i.email IS NOT NULL AND email_normalized = i.email AND auto_join LIMIT 50)
                   UNION ALL
                   (SELECT contact_id, 'phone', i.phone FROM contact_identities
                     WHERE i.phone IS NOT NULL AND phone_e164 = i.phone AND auto_join LIMIT 50)) found
            ORDER BY contact_id, reason) s
        ORDER BY i.idx, s.contact_id`,
      [
        identities.map((_, index) => index),
        identities.map((identity) => (byEmail ? identity.emailNormalized : null)),
        identities.map((identity) => (byPhone ? identity.phoneE164 : null)),
      ],
    )) as { idx: number; contactId: string; reason: 'email' | 'phone'; value: string }[];
    for (const row of rows) sharing[row.idx].push(row);
    return sharing;
  }

  /**
   * New identities in one statement, each in the contact planned for it (made here when
   * `createContact`; a contact joined gets the name, email and phone it lacks), with the log
   * lines saying why. Answers the ids inserted: an identity another worker stored first is not
   * (and a contact made for it alone is removed).
   */
  async insertIdentities(
    manager: EntityManager = this.dataSource.manager,
    plans: {
      identityId: string;
      contactId: string;
      createContact: boolean;
      input: IdentityInput;
      state: IdentityState;
      reason: 'created' | 'email' | 'phone';
      value: string | null;
    }[],
  ): Promise<Set<string>> {
    const rows = (await manager.query(
      `WITH plan AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS p (
           identity_id text, contact_id text, create_contact boolean, source_id text,
           source_kind text, external_id text, name text, email text, email_normalized text,
           phone text, phone_e164 text, description text, avatar_url text, attributes jsonb,
           field_stamps jsonb, reason text, value text, event_id text)
       ), contact AS (
         -- A contact made here takes what it lacks from the identities joining it here too.
         INSERT INTO contacts (id, name, email, phone_e164)
         SELECT p.contact_id, ${plannedFirst('name')}, ${plannedFirst('email')},
                ${plannedFirst('phone_e164')}
           FROM plan p WHERE p.create_contact
       ), identity AS (
         ${insertIdentitiesFrom('plan')}
       ), link AS (
         INSERT INTO contact_links (contact_id, identity_id, reason, value, event_id)
         SELECT plan.contact_id, plan.identity_id, plan.reason, plan.value, plan.event_id
           FROM plan JOIN identity ON identity.id = plan.identity_id
       ), joining AS (
         SELECT *, NOT create_contact AS joins FROM plan
       ), ${joinedContactsFilled('joining', 'identity')}
       SELECT id FROM identity`,
      [
        pgJson(
          plans.map((plan) => ({
            identity_id: plan.identityId,
            contact_id: plan.contactId,
            create_contact: plan.createContact,
            source_id: plan.input.sourceId,
            source_kind: plan.input.sourceKind,
            external_id: plan.input.externalId,
            name: plan.state.name,
            email: plan.state.email,
            email_normalized: plan.state.emailNormalized,
            phone: plan.state.phone,
            phone_e164: plan.state.phoneE164,
            description: plan.state.description,
            avatar_url: plan.state.avatarUrl,
            attributes: plan.state.attributes,
            field_stamps: plan.state.stamps,
            reason: plan.reason,
            value: plan.value,
            event_id: plan.input.eventId,
          })),
        ),
      ],
    )) as { id: string }[];
    const inserted = new Set(rows.map((row) => row.id));
    const orphans = plans
      .filter((plan) => plan.createContact && !inserted.has(plan.identityId))
      .map((plan) => plan.contactId);
    if (orphans.length > 0) {
      await manager.query(
        `DELETE FROM contacts c WHERE c.id = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM contact_identities i WHERE i.contact_id = c.id)`,
        [orphans],
      );
    }
    return inserted;
  }

  /** Contacts made for identities another worker stored first: none of them may stay empty. */
  async deleteEmptyContacts(ids: string[]): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM contacts c WHERE c.id = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM contact_identities i WHERE i.contact_id = c.id)`,
      [ids],
    );
  }

  /**
   * A new identity, in the contact given or in a new contact (which then takes its name, email
   * and phone), with the log line saying why. Joining fills only what the contact lacks of
   * them, and locks its row only then, so identities joining one contact do not queue behind
   * each other. Null when another worker stored the same identity first.
   */
  async insertIdentity(
    manager: EntityManager,
    input: IdentityInput,
    state: IdentityState,
    join: { contactId: string; reason: 'email' | 'phone'; value: string } | null,
  ): Promise<StoredIdentity | null> {
    const identityId = newId('cti');
    const contactId = join?.contactId ?? newId('ct');
    const rows = (await manager.query(
      `WITH contact AS (
         INSERT INTO contacts (id, name, email, phone_e164)
         SELECT $2, $9, $10, $13 WHERE $18::boolean
       ), identity AS (
         INSERT INTO contact_identities (id, contact_id, source_id, source_kind, external_id, name,
                                         email, email_normalized, phone, phone_e164, description,
                                         avatar_url, attributes, field_stamps)
         VALUES ($1, $2, $3, $4, $5, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17::jsonb)
         ON CONFLICT (source_id, external_id) DO NOTHING
         RETURNING id
       ), link AS (
         INSERT INTO contact_links (contact_id, identity_id, reason, value, event_id)
         SELECT $2, id, $6, $7, $8 FROM identity
       ), joining AS (
         SELECT $1::text AS identity_id, $2::text AS contact_id, $9::text AS name,
                $10::text AS email, $13::text AS phone_e164, NOT $18::boolean AS joins
       ), ${joinedContactsFilled('joining', 'identity')}
       SELECT id FROM identity`,
      [
        identityId,
        contactId,
        input.sourceId,
        input.sourceKind,
        input.externalId,
        join?.reason ?? 'created',
        join?.value ?? null,
        input.eventId,
        state.name,
        state.email,
        state.emailNormalized,
        state.phone,
        state.phoneE164,
        state.description,
        state.avatarUrl,
        pgJson(state.attributes),
        pgJson(state.stamps),
        join === null,
      ],
    )) as { id: string }[];
    if (rows.length === 0) {
      // The identity was there after all: the contact made for it must not stay empty.
      if (join === null) await manager.query(`DELETE FROM contacts WHERE id = $1`, [contactId]);
      return null;
    }
    return {
      ...state,
      id: identityId,
      contactId,
      sourceId: input.sourceId,
      externalId: input.externalId,
      autoJoin: true,
    };
  }

  /** Writes an identity's newer fields, and shows them on its contact. */
  async updateIdentity(manager: EntityManager, identity: StoredIdentity): Promise<void> {
    await manager.query(
      `WITH identity AS (
         UPDATE contact_identities SET name = $2, email = $3, email_normalized = $4, phone = $5,
                phone_e164 = $6, description = $7, avatar_url = $8, attributes = $9::jsonb,
                field_stamps = $10::jsonb, updated_at = now()
          WHERE id = $1
         RETURNING contact_id
       )
       UPDATE contacts SET name = coalesce($2, name), email = coalesce($3, email),
              phone_e164 = coalesce($6, phone_e164), updated_at = now()
        WHERE id = (SELECT contact_id FROM identity)`,
      [
        identity.id,
        identity.name,
        identity.email,
        identity.emailNormalized,
        identity.phone,
        identity.phoneE164,
        identity.description,
        identity.avatarUrl,
        pgJson(identity.attributes),
        pgJson(identity.stamps),
      ],
    );
  }

  /**
   * Known identities' newer fields shown on their contacts (as updateIdentity), as a companion
   * of the events' insert statement: each written only if it is still in the contact and has
   * the field stamps read (or already the ones written, by an earlier statement of the same
   * update), else the whole statement fails with `failure`. A contact whose name, email and
   * phone stay is not rewritten. The identities are locked in id order first (known_locked),
   * as everywhere else, whatever plan the update gets: two statements never deadlock on them.
   * No lock is held after it.
   */
  knownIdentitiesCompanion(writes: KnownIdentityWrite[], failure: string): StatementCompanion {
    return {
      ctes: (first) => `
        known_input AS (
          SELECT * FROM jsonb_to_recordset($${first}::jsonb) AS u (
            id text, contact_id text, name text, email text, email_normalized text, phone text,
            phone_e164 text, description text, avatar_url text, attributes jsonb,
            field_stamps jsonb, read_stamps jsonb)
        ), known_locked AS MATERIALIZED (
          SELECT i.id FROM contact_identities i WHERE i.id IN (SELECT id FROM known_input)
           ORDER BY i.id FOR UPDATE
        ), known_written AS (
          SELECT i.id FROM contact_identities i JOIN known_input u ON u.id = i.id
           WHERE i.contact_id = u.contact_id AND i.field_stamps = u.field_stamps
        ), known_identity AS (
          UPDATE contact_identities i SET name = u.name, email = u.email,
                 email_normalized = u.email_normalized, phone = u.phone,
                 phone_e164 = u.phone_e164, description = u.description,
                 avatar_url = u.avatar_url, attributes = u.attributes,
                 field_stamps = u.field_stamps, updated_at = now()
            FROM known_input u JOIN known_locked l ON l.id = u.id
           WHERE i.id = u.id AND i.contact_id = u.contact_id AND i.field_stamps = u.read_stamps
          RETURNING i.id, i.contact_id, u.name, u.email, u.phone_e164
        ), known_contact AS (
          UPDATE contacts c SET name = coalesce(known_identity.name, c.name),
                 email = coalesce(known_identity.email, c.email),
                 phone_e164 = coalesce(known_identity.phone_e164, c.phone_e164),
                 updated_at = now()
            FROM known_identity
           WHERE c.id = known_identity.contact_id
             AND (c.name IS DISTINCT FROM coalesce(known_identity.name, c.name)
                  OR c.email IS DISTINCT FROM coalesce(known_identity.email, c.email)
                  OR c.phone_e164 IS DISTINCT FROM coalesce(known_identity.phone_e164,
                                                            c.phone_e164))
        )`,
      params: [
        pgJson(
          writes.map(({ identity, readStamps }) => ({
            id: identity.id,
            contact_id: identity.contactId,
            name: identity.name,
            email: identity.email,
            email_normalized: identity.emailNormalized,
            phone: identity.phone,
            phone_e164: identity.phoneE164,
            description: identity.description,
            avatar_url: identity.avatarUrl,
            attributes: identity.attributes,
            field_stamps: identity.stamps,
            read_stamps: readStamps,
          })),
        ),
        writes.length,
      ],
      holds: (first) =>
        `(SELECT count(*) FROM known_input u
           WHERE u.id IN (SELECT id FROM known_identity UNION ALL SELECT id FROM known_written))
         = $${first + 1}`,
      failure,
    };
  }

  /**
   * As a companion of the events' insert statement: no identity of another contact may share
   * the email or phone (as the join mode allows) of these new identities, else the whole
   * statement fails with `failure` (another worker stored one at the same moment: join them).
   */
  unsharedCompanion(
    identities: StoredIdentity[],
    mode: ContactJoinMode,
    failure: string,
  ): StatementCompanion {
    const byEmail = mode === 'email' || mode === 'both';
    const byPhone = mode === 'phone' || mode === 'both';
    return {
      ctes: (first) => `
        shared_key AS (
          SELECT 1 FROM unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::text[])
                   AS k (contact_id, email, phone)
           CROSS JOIN LATERAL (
             (SELECT 1 FROM contact_identities i
               WHERE i.email_normalized = k.email AND i.auto_join AND i.contact_id <> k.contact_id
               LIMIT 1)
             UNION ALL
             (SELECT 1 FROM contact_identities i
               WHERE i.phone_e164 = k.phone AND i.auto_join AND i.contact_id <> k.contact_id
               LIMIT 1)) shared
        )`,
      params: [
        identities.map((identity) => identity.contactId),
        identities.map((identity) => (byEmail ? identity.emailNormalized : null)),
        identities.map((identity) => (byPhone ? identity.phoneE164 : null)),
      ],
      holds: () => `NOT EXISTS (SELECT 1 FROM shared_key)`,
      failure,
    };
  }

  /**
   * As a companion of the events' insert statement: each of these identities must still be in
   * the contact given, with the field stamps given (as a worker remembers them), else the
   * whole statement fails with `failure`.
   */
  identitiesAsRememberedCompanion(
    identities: { id: string; contactId: string; stamps: IdentityState['stamps'] }[],
    failure: string,
  ): StatementCompanion {
    return {
      ctes: (first) => `
        remembered_identity AS (
          SELECT * FROM jsonb_to_recordset($${first}::jsonb)
            AS r (id text, contact_id text, field_stamps jsonb)
        )`,
      params: [
        pgJson(
          identities.map(({ id, contactId, stamps }) => ({
            id,
            contact_id: contactId,
            field_stamps: stamps,
          })),
        ),
        identities.length,
      ],
      holds: (first) =>
        `(SELECT count(*) FROM remembered_identity r JOIN contact_identities i
             ON i.id = r.id AND i.contact_id = r.contact_id AND i.field_stamps = r.field_stamps)
         = $${first + 1}`,
      failure,
    };
  }

  /**
   * Moves every identity and conversation of `from` into `into` and deletes `from`, logging
   * why. `into`'s name, email and phone stay; the merged ones fill what it lacks.
   */
  async mergeContacts(
    manager: EntityManager,
    into: string,
    from: string[],
    why: { reason: 'email' | 'phone' | 'merge'; value: string | null; eventId: string | null },
  ): Promise<void> {
    if (from.length === 0) return;
    await manager.query(
      `UPDATE contact_identities SET contact_id = $1, updated_at = now()
        WHERE contact_id = ANY($2::text[])`,
      [into, from],
    );
    await manager.query(
      `UPDATE conversations SET contact_id = $1, updated_at = now()
        WHERE contact_id = ANY($2::text[])`,
      [into, from],
    );
    await manager.query(
      `UPDATE contacts SET
         name = coalesce(contacts.name, merged.name),
         email = coalesce(contacts.email, merged.email),
         phone_e164 = coalesce(contacts.phone_e164, merged.phone_e164),
         updated_at = now()
        FROM (SELECT max(name) AS name, max(email) AS email, max(phone_e164) AS phone_e164
                FROM contacts WHERE id = ANY($2::text[])) merged
        WHERE contacts.id = $1`,
      [into, from],
    );
    await manager.query(
      `INSERT INTO contact_links (contact_id, other_contact_id, reason, value, event_id)
       SELECT $1, other, $3, $4, $5 FROM unnest($2::text[]) AS other`,
      [into, from, why.reason, why.value, why.eventId],
    );
    await manager.query(`DELETE FROM contacts WHERE id = ANY($1::text[])`, [from]);
  }

  /**
   * Takes an identity out of its contact into a new one, with its conversations, and marks it
   * never to be joined automatically again. Answers the new contact's id.
   */
  async splitIdentity(manager: EntityManager, identity: StoredIdentity): Promise<string> {
    const contactId = newId('ct');
    await manager.query(
      `INSERT INTO contacts (id, name, email, phone_e164) VALUES ($1, $2, $3, $4)`,
      [contactId, identity.name, identity.email, identity.phoneE164],
    );
    await manager.query(
      `UPDATE contact_identities SET contact_id = $1, auto_join = false, updated_at = now()
        WHERE id = $2`,
      [contactId, identity.id],
    );
    await manager.query(
      `UPDATE conversations SET contact_id = $1, updated_at = now()
        WHERE contact_identity_id = $2`,
      [contactId, identity.id],
    );
    // The contact it leaves shows its remaining identities' name, email and phone (each from
    // the oldest that has one), not the split one's.
    const firstOf = (column: string) =>
      `(SELECT i.${column} FROM contact_identities i
         WHERE i.contact_id = c.id AND i.${column} IS NOT NULL
         ORDER BY i.created_at, i.id LIMIT 1)`;
    await manager.query(
      `UPDATE contacts c SET name = ${firstOf('name')}, email = ${firstOf('email')},
              phone_e164 = ${firstOf('phone_e164')}, updated_at = now()
        WHERE c.id = $1`,
      [identity.contactId],
    );
    await manager.query(
      `INSERT INTO contact_links (contact_id, identity_id, other_contact_id, reason)
       VALUES ($1, $2, $3, 'split')`,
      [contactId, identity.id, identity.contactId],
    );
    return contactId;
  }

  /**
   * The contact an identity belongs to, or, for an identity not seen yet, the contact an
   * identity sharing its email or phone belongs to (as the join mode allows).
   */
  async contactOf(input: IdentityInput, mode: ContactJoinMode): Promise<string | null> {
    const email =
      mode === 'email' || mode === 'both' ? (input.fields.emailNormalized ?? null) : null;
    const phone = mode === 'phone' || mode === 'both' ? (input.fields.phoneE164 ?? null) : null;
    const rows = (await this.dataSource.query(
      `(SELECT contact_id, 0 AS rank FROM contact_identities
         WHERE source_id = $1 AND external_id = $2)
       UNION ALL
       (SELECT contact_id, 1 FROM contact_identities
         WHERE $3::text IS NOT NULL AND email_normalized = $3 AND auto_join LIMIT 1)
       UNION ALL
       (SELECT contact_id, 2 FROM contact_identities
         WHERE $4::text IS NOT NULL AND phone_e164 = $4 AND auto_join LIMIT 1)
       ORDER BY rank LIMIT 1`,
      [input.sourceId, input.externalId, email, phone],
    )) as { contact_id: string }[];
    return rows[0]?.contact_id ?? null;
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager) {
    return manager.getRepository(ContactEntity).findOneBy({ id });
  }

  async lockContacts(manager: EntityManager, ids: string[]): Promise<string[]> {
    const rows = (await manager.query(
      `SELECT id FROM contacts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [ids],
    )) as { id: string }[];
    return rows.map((row) => row.id);
  }

  identitiesOf(contactId: string, manager: EntityManager = this.dataSource.manager) {
    return manager
      .getRepository(ContactIdentityEntity)
      .find({ where: { contactId }, order: { id: 'ASC' } });
  }

  async identityById(manager: EntityManager, id: string): Promise<StoredIdentity | null> {
    const rows = (await manager.query(
      `SELECT ${IDENTITY_COLUMNS} FROM contact_identities WHERE id = $1 FOR UPDATE`,
      [id],
    )) as StoredIdentity[];
    return rows[0] ?? null;
  }

  linksOf(contactId: string): Promise<ContactLinkEntity[]> {
    return this.dataSource.getRepository(ContactLinkEntity).find({
      where: [{ contactId }, { otherContactId: contactId }],
      order: { id: 'ASC' },
      take: 200,
    });
  }

  /** Newest contacts first (ids are time-ordered), filtered through their identities. */
  async list(query: ContactRowQuery): Promise<ContactEntity[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.cursor) where.push(`c.id < ${param(query.cursor)}`);
    const identity: string[] = [];
    if (query.email) identity.push(`i.email_normalized = ${param(query.email)}`);
    if (query.phoneE164) identity.push(`i.phone_e164 = ${param(query.phoneE164)}`);
    if (query.sourceId) identity.push(`i.source_id = ${param(query.sourceId)}`);
    if (query.q) identity.push(`(${matchesQ('i', query.q, param)})`);
    if (identity.length > 0) {
      where.push(
        `EXISTS (SELECT 1 FROM contact_identities i
                  WHERE i.contact_id = c.id AND ${identity.join(' AND ')})`,
      );
    }
    const rows = (await this.dataSource.query(
      `SELECT c.id, c.name, c.email, c.phone_e164 AS "phoneE164", c.created_at AS "createdAt",
              c.updated_at AS "updatedAt"
         FROM contacts c ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY c.id DESC LIMIT ${param(query.take)}`,
      params,
    )) as ContactEntity[];
    return rows;
  }
}

/**
 * `q` over an identity's name, email and phone: an address or a phone number (in E.164, with
 * or without `+` and spacing) is looked up exactly (indexed), anything else as a piece of the
 * name.
 */
export function matchesQ(alias: string, q: string, param: (value: unknown) => string): string {
  const text = q.trim();
  if (text.includes('@')) return `${alias}.email_normalized = ${param(text.toLowerCase())}`;
  const digits = text.replace(/[\s()+.-]/g, '');
  if (/^\d{6,15}$/.test(digits)) return `${alias}.phone_e164 = ${param(`+${digits}`)}`;
  return `${alias}.name ILIKE ${param(`%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`;
}
