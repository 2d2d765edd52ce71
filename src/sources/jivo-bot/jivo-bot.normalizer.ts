import { Injectable } from '@nestjs/common';
import {
  Actor,
  Agent,
  CanonicalEventBody,
  CanonicalEventType,
  Contact,
  Conversation,
  ConversationStatus,
  MessageDirection,
} from '../../canonical/canonical-event';
import { JsonRecord, asId, isRecord } from '../../canonical/coerce';
import {
  InboundRequest,
  NormalizeContext,
  NormalizeResult,
  SourceNormalizer,
  VerificationResult,
} from '../source-normalizer';
import { ConfiguredSource } from '../source-settings';
import { JIVO_BOT_ACTIONS } from './jivo-bot.actions';
import { jivoBotExtensions } from './jivo-bot.extensions';
import { JivoBotEvent, JivoBotPayload } from './jivo-bot.payload';
import { JIVO_BOT_SETTINGS, JivoBotSettings } from './jivo-bot.settings';
import {
  agentActor,
  botActor,
  channelOf,
  contactActor,
  eventAgent,
  occurredAtOf,
  readChannel,
  readContact,
  readMessage,
  systemActor,
} from './jivo-bot.readers';

type Party = 'contact' | 'agent' | 'bot' | 'system';

interface EventRule {
  type: CanonicalEventType;
  /** `pending` while the bot holds the chat (Chatwoot's meaning), `open` once a human is in. */
  status: ConversationStatus;
  /** Who caused the event; for message events also the message's sender. */
  actor: Party;
  message: MessageDirection | null;
  /** AGENT_JOINED names the agent who took the chat. */
  assigneeIsAgent?: true;
}

const EVENT_RULES: Record<JivoBotEvent, EventRule> = {
  CLIENT_MESSAGE: {
    type: 'message.created',
    status: 'pending',
    actor: 'contact',
    message: 'inbound',
  },
  AGENT_MESSAGE: { type: 'message.created', status: 'open', actor: 'agent', message: 'outbound' },
  AGENT_JOINED: {
    type: 'conversation.accepted',
    status: 'open',
    actor: 'agent',
    message: null,
    assigneeIsAgent: true,
  },
  // No human could take the chat: nothing changed, but the chat keeps waiting with the bot.
  AGENT_UNAVAILABLE: {
    type: 'conversation.updated',
    status: 'pending',
    actor: 'system',
    message: null,
  },
  CHAT_CLOSED: { type: 'conversation.ended', status: 'resolved', actor: 'system', message: null },
  // Bot → Jivo events, should a relay forward our own traffic here.
  BOT_MESSAGE: { type: 'message.created', status: 'pending', actor: 'bot', message: 'outbound' },
  INVITE_AGENT: { type: 'conversation.updated', status: 'pending', actor: 'bot', message: null },
  CLIENT_INFO: { type: 'contact.updated', status: 'pending', actor: 'bot', message: null },
};

const UNKNOWN_EVENT: EventRule = {
  type: 'source.unknown',
  status: 'unknown',
  actor: 'system',
  message: null,
};

/** Jivo spells events in upper snake case; a stray space or case change does not make one unknown. */
function ruleFor(event: string): EventRule {
  const name = event.trim().toUpperCase();
  return Object.hasOwn(EVENT_RULES, name) ? EVENT_RULES[name as JivoBotEvent] : UNKNOWN_EVENT;
}

/**
 * Jivo Bot API (`event` payloads) as a bot provider receives them. Jivo signs nothing: the
 * URL token (checked by the router) and the account/channel allow-list are the protection.
 */
@Injectable()
export class JivoBotNormalizer implements SourceNormalizer<JivoBotSettings> {
  readonly kind = 'jivo-bot';
  readonly settings = JIVO_BOT_SETTINGS;
  readonly actions = JIVO_BOT_ACTIONS;

  /** No signature exists; the allow-list may name accounts (`site_id`) or channels (`channel.id`). */
  verify(request: InboundRequest, source: ConfiguredSource<JivoBotSettings>): VerificationResult {
    const allowed = source.settings.allowedChannelIds.map((allowedId) => allowedId.trim());
    if (allowed.length === 0) return { ok: true };
    const { siteId, channelId } = accountAndChannel(request.payload);
    if (allowed.some((allowedId) => allowedId === siteId || allowedId === channelId)) {
      return { ok: true };
    }
    return {
      ok: false,
      reason: `neither site_id ${shown(siteId)} nor channel.id ${shown(channelId)} is allowed on this source`,
    };
  }

  /** The event id; Jivo retries a request twice within 9 s, presumably with the same id. */
  deliveryId(request: InboundRequest): string | null {
    return isRecord(request.payload) ? asId(request.payload.id) : null;
  }

  /** The Bot API wants a 200 and reads no body from it: bot replies go to Jivo's own endpoint. */
  acceptedResponse(eventId: string): unknown {
    return { status: 'accepted', eventId };
  }

  normalize(payload: JsonRecord, context: NormalizeContext): NormalizeResult {
    const event = isRecord(payload) ? payload.event : undefined;
    if (typeof event !== 'string') {
      return { status: 'unprocessable', reason: missingEventReason(payload) };
    }
    try {
      return { status: 'ok', event: buildEvent(payload, event, context) };
    } catch (error) {
      const detail = error instanceof Error ? error.message : 'unknown error';
      return { status: 'unprocessable', reason: `${event} could not be mapped: ${detail}` };
    }
  }
}

function accountAndChannel(payload: unknown): {
  siteId: string | null;
  channelId: string | null;
} {
  const wire: JivoBotPayload = isRecord(payload) ? payload : {};
  return { siteId: asId(wire.site_id), channelId: asId(channelOf(wire)?.id) };
}

function shown(value: string | null): string {
  return value === null ? '(missing)' : JSON.stringify(value);
}

function missingEventReason(payload: unknown): string {
  if (isRecord(payload) && typeof payload.event_name === 'string') {
    return 'no event: this looks like a Jivo Webhooks API payload, which jivo-bot sources do not take';
  }
  return 'event is missing or not a string: not a Jivo Bot API payload';
}

function buildEvent(
  payload: JivoBotPayload,
  event: string,
  context: NormalizeContext,
): CanonicalEventBody {
  const rule = ruleFor(event);
  const senderAs = rule.actor === 'contact' || rule.actor === 'agent' ? rule.actor : null;
  const contact = readContact(payload, senderAs === 'contact');
  const agent = senderAs === 'agent' ? eventAgent(payload) : null;
  const actor = actorFor(rule.actor, contact, agent);
  const occurredAt = occurredAtOf(payload);
  return {
    type: rule.type,
    occurredAt,
    sourceEvent: event,
    conversation: readConversation(payload, { rule, context, agent, occurredAt }),
    contact,
    actor,
    message:
      rule.message === null
        ? null
        : readMessage(payload, {
            chatId: asId(payload.chat_id),
            eventId: asId(payload.id),
            direction: rule.message,
            sender: actor,
          }),
    messages: [],
    changes: null, // the Bot API sends no previous values
    session: null, // nor anything about the visit
    extensions: {
      'jivo-bot': jivoBotExtensions(payload, {
        reads: { message: rule.message !== null, senderAs },
        unknownEvent: rule === UNKNOWN_EVENT,
        contactId: contact?.externalId ?? null,
        agentId: agent?.externalId ?? null,
      }),
    },
  };
}

function actorFor(party: Party, contact: Contact | null, agent: Agent | null): Actor {
  switch (party) {
    case 'contact':
      return contactActor(contact);
    case 'agent':
      return agentActor(agent);
    case 'bot':
      return botActor();
    case 'system':
      return systemActor();
  }
}

interface ConversationInput {
  rule: EventRule;
  context: NormalizeContext;
  agent: Agent | null;
  occurredAt: string | null;
}

function readConversation(
  payload: JivoBotPayload,
  { rule, context, agent, occurredAt }: ConversationInput,
): Conversation | null {
  const chatId = asId(payload.chat_id);
  if (chatId === null) return null;
  return {
    key: `${context.kind}:${context.sourceId}:${chatId}`,
    externalId: chatId,
    status: rule.status,
    channel: readChannel(payload),
    team: null,
    assignee: rule.assigneeIsAgent ? agent : null,
    agents: agent ? [agent] : [],
    labels: [],
    rating: null,
    startedAt: null,
    endedAt: rule.type === 'conversation.ended' ? occurredAt : null,
    attributes: {},
  };
}
