import { buildCanonicalEvent } from '../canonical/build-event';
import type { CanonicalEvent, Contact } from '../canonical/canonical-event';
import {
  emptyIdentityState,
  identityInputOf,
  identityOf,
  joinKeysOf,
  mergeIdentity,
  normalizeEmail,
} from './contact-identity';

function eventWith(
  contact: Partial<Contact> | null,
  id = 'evt_1',
  at = '2026-04-16T14:00:00.000Z',
) {
  return buildCanonicalEvent(
    {
      type: 'contact.updated',
      occurredAt: at,
      sourceEvent: 'client_updated',
      conversation: null,
      contact: contact && {
        externalId: null,
        name: null,
        email: null,
        phone: null,
        phoneE164: null,
        description: null,
        avatarUrl: null,
        attributes: {},
        userToken: null,
        chatsCount: null,
        ...contact,
      },
      actor: null,
      message: null,
      messages: [],
      changes: null,
      session: null,
      extensions: {},
    },
    { id, receivedAt: at, source: { kind: 'jivo', id: 'src_1', deliveryId: null } },
  ) as CanonicalEvent;
}

describe('contact identities', () => {
  it('merges into a copy of a stored identity that keeps its ids and leaves the stored one as it was', () => {
    const input = identityInputOf(eventWith({ externalId: '42', name: 'Maria' }))!;
    const stored = identityOf(
      mergeIdentity(emptyIdentityState(), input).state,
      {},
      {
        id: 'cti_1',
        contactId: 'ct_1',
        sourceId: 'src_1',
        externalId: '42',
        autoJoin: false,
      },
    );
    const later = identityInputOf(
      eventWith({ externalId: '42', name: 'Maria Souza' }, 'evt_2', '2026-04-16T15:00:00.000Z'),
    )!;
    const { state, changed } = mergeIdentity(stored, later);
    expect(changed).toBe(true);
    expect(state).toMatchObject({
      id: 'cti_1',
      contactId: 'ct_1',
      sourceId: 'src_1',
      externalId: '42',
      autoJoin: false,
      name: 'Maria Souza',
      stamps: { name: ['2026-04-16T15:00:00.000Z', 'evt_2'] },
    });
    expect(stored.name).toBe('Maria');
    expect(stored.stamps).toEqual({});
  });

  it('normalizes emails: trimmed, lower-case, and only addresses', () => {
    expect(normalizeEmail('  Maria.Souza@Example.COM ')).toBe('maria.souza@example.com');
    expect(normalizeEmail('not an address')).toBeNull();
    expect(normalizeEmail(null)).toBeNull();
  });

  it('never identifies anyone by userToken alone', () => {
    expect(identityInputOf(eventWith({ userToken: 'browser-set-token' }))).toBeNull();
    const input = identityInputOf(eventWith({ externalId: '42', userToken: 'x' }))!;
    expect(input.externalId).toBe('42');
    expect(Object.keys(input.fields)).not.toContain('userToken');
  });

  it('falls back to the email, then the phone, as the id on the source', () => {
    expect(identityInputOf(eventWith({ email: 'A@b.io' }))!.externalId).toBe('email:a@b.io');
    expect(
      identityInputOf(eventWith({ phone: '+1 408 498 7855', phoneE164: '+14084987855' }))!
        .externalId,
    ).toBe('phone:+14084987855');
  });

  it('drops NUL and refuses ids too long to index', () => {
    const nul = String.fromCharCode(0);
    expect(
      identityInputOf(eventWith({ externalId: `4${nul}2`, name: `Ma${nul}ria` })),
    ).toMatchObject({
      externalId: '42',
      fields: { name: 'Maria' },
    });
    expect(identityInputOf(eventWith({ externalId: 'x'.repeat(600) }))).toBeNull();
  });

  it('keeps the newest value of each field whatever order the events come in', () => {
    const older = identityInputOf(
      eventWith(
        { externalId: '1', name: 'Old', email: 'a@b.io' },
        'evt_1',
        '2026-01-01T00:00:00.000Z',
      ),
    )!;
    const newer = identityInputOf(
      eventWith({ externalId: '1', name: 'New' }, 'evt_2', '2026-02-01T00:00:00.000Z'),
    )!;
    const forward = mergeIdentity(mergeIdentity(emptyIdentityState(), older).state, newer).state;
    const backward = mergeIdentity(mergeIdentity(emptyIdentityState(), newer).state, older).state;
    expect(forward).toEqual(backward);
    expect(forward).toMatchObject({ name: 'New', email: 'a@b.io', emailNormalized: 'a@b.io' });
    expect(mergeIdentity(forward, older).changed).toBe(false);
  });

  it('joins by what the mode allows', () => {
    const identity = { emailNormalized: 'a@b.io', phoneE164: '+14084987855' };
    expect(joinKeysOf(identity, 'both')).toEqual(['email:a@b.io', 'phone:+14084987855']);
    expect(joinKeysOf(identity, 'email')).toEqual(['email:a@b.io']);
    expect(joinKeysOf(identity, 'phone')).toEqual(['phone:+14084987855']);
    expect(joinKeysOf(identity, 'off')).toEqual([]);
  });
});
