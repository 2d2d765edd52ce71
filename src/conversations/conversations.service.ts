import { Injectable } from '@nestjs/common';
import { AppError, notFound } from '../common/app-error';
import { DEFAULT_PAGE_SIZE, Page } from '../common/pagination';
import { EventsRepository } from '../events/events.repository';
import { ContactEntity, ContactIdentityEntity, ContactLinkEntity } from './contact.entity';
import { normalizeEmail } from './contact-identity';
import { ContactsRepository } from './contacts.repository';
import { ConversationEntity } from './conversation.entity';
import { ConversationRowQuery, ConversationsRepository } from './conversations.repository';
import {
  ContactDetail,
  ContactView,
  ConversationDetail,
  ConversationView,
  TimelineEntryView,
} from './dto/conversation.response';

const TIMELINE_PAGE = 500;

export type ConversationListQuery = Omit<ConversationRowQuery, 'take' | 'after'> & {
  cursor?: string;
  limit?: number;
};

export interface ContactListQuery {
  q?: string;
  email?: string;
  phone?: string;
  sourceId?: string;
  cursor?: string;
  limit?: number;
}

/** The admin API's view of conversations and contacts, and the hand-made merges and splits. */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly contacts: ContactsRepository,
    private readonly events: EventsRepository,
  ) {}

  async list(query: ConversationListQuery): Promise<Page<ConversationView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.conversations.list({
      ...query,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      take: limit + 1,
    });
    const hasMore = rows.length > limit;
    const page = hasMore ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    return {
      data: page.map(toConversationView),
      nextCursor: hasMore ? encodeCursor(last.lastActivityAt, last.id) : null,
    };
  }

  async get(id: string, timelineCursor?: string): Promise<ConversationDetail> {
    const conversation = await this.conversations.findById(id);
    if (!conversation) throw notFound(`Conversation ${id}`);
    const after = timelineCursor ? decodeTimelineCursor(timelineCursor) : undefined;
    const [events, purgedBefore] = await Promise.all([
      this.events.timelineOf(id, TIMELINE_PAGE + 1, after),
      this.events.purgedBefore(),
    ]);
    const hasMore = events.length > TIMELINE_PAGE;
    const page = hasMore ? events.slice(0, TIMELINE_PAGE) : events;
    const last = page[page.length - 1];
    const timeline: TimelineEntryView[] = page.map((event) => ({
      eventId: event.id,
      type: event.type ?? 'source.unknown',
      sourceEvent: event.sourceEvent,
      occurredAt: event.occurredAt.toISOString(),
      receivedAt: event.receivedAt.toISOString(),
      message: event.canonical?.message ?? null,
      messages: event.canonical?.messages.length ? event.canonical.messages : undefined,
      changes: event.canonical?.changes ?? null,
    }));
    const firstActivity = conversation.firstActivityAt;
    return {
      ...toConversationView(conversation),
      timeline,
      timelineNextCursor: hasMore
        ? Buffer.from(`${last.occurredAt.toISOString()}|${last.id}`).toString('base64url')
        : null,
      // Only when the purge could have reached this conversation's events.
      eventsPurgedBefore:
        purgedBefore && firstActivity && firstActivity < purgedBefore
          ? purgedBefore.toISOString()
          : null,
    };
  }

  async listContacts(query: ContactListQuery): Promise<Page<ContactView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.contacts.list({
      q: query.q,
      email: query.email ? (normalizeEmail(query.email) ?? query.email) : undefined,
      phoneE164: query.phone ? phoneE164Of(query.phone) : undefined,
      sourceId: query.sourceId,
      cursor: query.cursor,
      take: limit + 1,
    });
    const hasMore = rows.length > limit;
    const page = hasMore ? rows.slice(0, limit) : rows;
    return {
      data: page.map(toContactView),
      nextCursor: hasMore ? page[page.length - 1].id : null,
    };
  }

  async getContact(id: string): Promise<ContactDetail> {
    const contact = await this.contacts.findById(id);
    if (!contact) throw notFound(`Contact ${id}`);
    const [identities, conversations, links] = await Promise.all([
      this.contacts.identitiesOf(id),
      this.conversations.ofContact(id),
      this.contacts.linksOf(id),
    ]);
    return {
      ...toContactView(contact),
      identities: identities.map(toIdentityView),
      conversations: conversations.map(toConversationView),
      links: links.map(toLinkView),
    };
  }

  /** Joins the other contacts into `into`: their identities and conversations move; they go. */
  async merge(into: string, from: string[]): Promise<ContactDetail> {
    const others = [...new Set(from)].filter((id) => id !== into);
    if (others.length === 0) {
      throw new AppError('validation_failed', 'Name at least one contact other than the target');
    }
    await this.contacts.transaction(async (manager) => {
      const found = new Set(await this.contacts.lockContacts(manager, [into, ...others]));
      const missing = [into, ...others].filter((id) => !found.has(id));
      if (missing.length > 0) throw notFound(`Contact ${missing.join(', ')}`);
      await this.contacts.mergeContacts(manager, into, others, {
        reason: 'merge',
        value: null,
        eventId: null,
      });
    });
    return this.getContact(into);
  }

  /**
   * Takes an identity out of the contact into a new one, which automatic joins then leave
   * alone. Answers the new contact.
   */
  async split(contactId: string, identityId: string): Promise<ContactDetail> {
    const created = await this.contacts.transaction(async (manager) => {
      const locked = await this.contacts.lockContacts(manager, [contactId]);
      if (locked.length === 0) throw notFound(`Contact ${contactId}`);
      const identity = await this.contacts.identityById(manager, identityId);
      if (!identity || identity.contactId !== contactId) {
        throw notFound(`Identity ${identityId} of contact ${contactId}`);
      }
      const identities = await this.contacts.identitiesOf(contactId, manager);
      if (identities.length < 2) {
        throw new AppError(
          'conflict',
          `Contact ${contactId} has only this identity; there is nothing to split it from`,
        );
      }
      return this.contacts.splitIdentity(manager, identity);
    });
    return this.getContact(created);
  }
}

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

export function toConversationView(row: ConversationEntity): ConversationView {
  return {
    id: row.id,
    key: row.key,
    sourceId: row.sourceId,
    sourceKind: row.sourceKind,
    externalId: row.externalId,
    contactId: row.contactId,
    contactExternalId: row.contactExternalId,
    status: row.status,
    channel: row.channel,
    team: row.team,
    assignee: row.assignee,
    agents: row.agents,
    labels: row.labels,
    rating: row.rating,
    attributes: row.attributes,
    startedAt: iso(row.startedAt),
    endedAt: iso(row.endedAt),
    firstActivityAt: iso(row.firstActivityAt),
    lastActivityAt: iso(row.lastActivityAt),
    messageCounts: {
      inbound: row.messagesInbound,
      outbound: row.messagesOutbound,
      internal: row.messagesInternal,
    },
    lastMessage: row.lastMessage
      ? {
          externalId: row.lastMessage.externalId,
          direction: row.lastMessage.direction,
          text: row.lastMessage.text,
          createdAt: row.lastMessage.createdAt
            ? new Date(row.lastMessage.createdAt).toISOString()
            : null,
          senderName: row.lastMessage.senderName,
          deleted: Boolean((row.lastMessage as { deleted?: boolean }).deleted),
        }
      : null,
  };
}

function toContactView(row: ContactEntity): ContactView {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    phoneE164: row.phoneE164,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

function toIdentityView(row: ContactIdentityEntity) {
  return {
    id: row.id,
    sourceId: row.sourceId,
    sourceKind: row.sourceKind,
    externalId: row.externalId,
    name: row.name,
    email: row.email,
    phone: row.phone,
    phoneE164: row.phoneE164,
    autoJoin: row.autoJoin,
  };
}

function toLinkView(row: ContactLinkEntity) {
  return {
    reason: row.reason,
    identityId: row.identityId,
    otherContactId: row.otherContactId,
    value: row.value,
    eventId: row.eventId,
    at: row.createdAt.toISOString(),
  };
}

/** `+<digits>` from a phone as typed; lookups match the E.164 form the router keeps. */
function phoneE164Of(phone: string): string {
  const digits = phone.replace(/[^\d]/g, '');
  return `+${digits}`;
}

function encodeCursor(lastActivityAt: Date | null, id: string): string {
  return Buffer.from(`${lastActivityAt ? lastActivityAt.toISOString() : ''}|${id}`).toString(
    'base64url',
  );
}

function badCursor(): AppError {
  return new AppError('validation_failed', 'cursor is not a cursor this list gave', [
    { field: 'cursor', problems: ['cursor must be the nextCursor of a previous page'] },
  ]);
}

function decodeCursor(cursor: string): { lastActivityAt: string; id: string } {
  const [time, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !id?.startsWith('conv_') || Number.isNaN(Date.parse(time))) {
    throw badCursor();
  }
  return { lastActivityAt: time, id };
}

function decodeTimelineCursor(cursor: string): { occurredAt: string; id: string } {
  const [time, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !id?.startsWith('evt_') || Number.isNaN(Date.parse(time))) {
    throw new AppError('validation_failed', 'timelineCursor is not a cursor this route gave', [
      {
        field: 'timelineCursor',
        problems: ['timelineCursor must be a previous timelineNextCursor'],
      },
    ]);
  }
  return { occurredAt: time, id };
}
