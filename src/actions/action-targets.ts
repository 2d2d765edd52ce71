import { Injectable } from '@nestjs/common';
import { ConversationsRepository } from '../conversations/conversations.repository';
import { EventsRepository } from '../events/events.repository';

/** The conversation an action is for: where to send it and the platform's ids in it. */
export interface ActionTarget {
  /** `conv_…` when the router keeps a row for the conversation, else null. */
  conversationId: string | null;
  conversationKey: string;
  sourceId: string;
  sourceKind: string;
  /** The platform's conversation id (Jivo chat id, Chatwoot display id). */
  externalId: string;
  /** The contact's id on the platform (Jivo `client_id`), when known. */
  contactExternalId: string | null;
}

/** `<kind>:<sourceId>:<native id>`, the canonical `conversation.key`. */
const KEY = /^([^:]+):([^:]+):([\s\S]+)$/;

/**
 * The action API's one way to a conversation. It is addressed by the router's id (`conv_…`) or
 * by the canonical `conversation.key` every event carries (what a bot receives). A key without
 * a conversation row yet is found from its newest stored events.
 */
@Injectable()
export class ActionTargets {
  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly events: EventsRepository,
  ) {}

  async find(idOrKey: string): Promise<ActionTarget | null> {
    if (idOrKey.startsWith('conv_')) {
      const row = await this.conversations.findById(idOrKey);
      return row ? this.withContact(this.fromRow(row)) : null;
    }
    if (!KEY.test(idOrKey)) return null;
    const row = await this.conversations.findByKey(idOrKey);
    if (row) return this.withContact(this.fromRow(row));
    const seen = await this.events.conversationOf(idOrKey);
    return seen ? { conversationId: null, conversationKey: idOrKey, ...seen } : null;
  }

  /** A row whose contact id is not known yet takes it from the conversation's events. */
  private async withContact(target: ActionTarget): Promise<ActionTarget> {
    if (target.contactExternalId !== null) return target;
    const seen = await this.events.conversationOf(target.conversationKey);
    return { ...target, contactExternalId: seen?.contactExternalId ?? null };
  }

  private fromRow(row: {
    id: string;
    key: string;
    sourceId: string;
    sourceKind: string;
    externalId: string;
    contactExternalId: string | null;
  }): ActionTarget {
    return {
      conversationId: row.id,
      conversationKey: row.key,
      sourceId: row.sourceId,
      sourceKind: row.sourceKind,
      externalId: row.externalId,
      contactExternalId: row.contactExternalId,
    };
  }
}
