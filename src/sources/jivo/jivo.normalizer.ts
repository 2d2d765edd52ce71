import { Injectable } from '@nestjs/common';
import {
  Actor,
  Agent,
  CanonicalEventBody,
  CanonicalEventType,
  Contact,
  Conversation,
  ConversationStatus,
  Message,
} from '../../canonical/canonical-event';
import { JsonRecord, asBoolean, asId, asRecord, asString, isRecord } from '../../canonical/coerce';
import {
  InboundRequest,
  NormalizeContext,
  NormalizeResult,
  SourceNormalizer,
  VerificationResult,
} from '../source-normalizer';
import { ConfiguredSource } from '../source-settings';
import { JivoChat, JivoVisitor, JivoWebhookEvent, JivoWebhookPayload } from './jivo.payload';
import {
  agentActor,
  contactActor,
  nonEmptyRecord,
  readAgent,
  readAgents,
  readAssignedAgent,
  readCall,
  readClientStatus,
  readContact,
  readLabels,
  readNamedRef,
  readOrganization,
  readRating,
  readSession,
  readTags,
  readTeam,
  readTopic,
  systemActor,
  widgetIdOf,
} from './jivo.readers';
import { jivoReplyEnrichment } from './jivo.reply';
import { JIVO_SETTINGS, JivoSettings } from './jivo.settings';
import { lastAgentWriter, offlineMessage, readTranscript, transcriptSpan } from './jivo.transcript';

interface EventRule {
  type: CanonicalEventType;
  status: ConversationStatus;
  actor: 'agent' | 'agentElseContact' | 'contact' | 'system';
}

const EVENT_RULES: Record<JivoWebhookEvent, EventRule> = {
  chat_accepted: {
    type: 'conversation.accepted',
    status: 'open',
    actor: 'agent',
  },
  chat_updated: {
    type: 'conversation.updated',
    status: 'open',
    actor: 'agentElseContact',
  },
  chat_finished: {
    type: 'conversation.ended',
    status: 'resolved',
    actor: 'system',
  },
  offline_message: {
    type: 'offline_message.created',
    status: 'offline',
    actor: 'contact',
  },
  client_updated: {
    type: 'contact.updated',
    status: 'unknown',
    actor: 'system',
  },
  client_attribute_updated: {
    type: 'contact.updated',
    status: 'unknown',
    actor: 'system',
  },
  // Legacy: the agent attached the chat to a CRM card (via crm_link) while talking.
  chat_assigned: { type: 'contact.linked', status: 'open', actor: 'agent' },
  call_event: { type: 'call.updated', status: 'unknown', actor: 'agent' },
};

const UNKNOWN_EVENT: EventRule = {
  type: 'source.unknown',
  status: 'unknown',
  actor: 'system',
};

function ruleFor(eventName: string): EventRule {
  return Object.hasOwn(EVENT_RULES, eventName)
    ? EVENT_RULES[eventName as JivoWebhookEvent]
    : UNKNOWN_EVENT;
}

/**
 * Jivo Webhooks API (`event_name` payloads). Jivo signs nothing and sends no delivery id or
 * event time: the URL token (checked by the router) and the widget allow-list are the only
 * protection, and the router's receivedAt is the event time.
 */
@Injectable()
export class JivoNormalizer implements SourceNormalizer<JivoSettings> {
  readonly kind = 'jivo';
  readonly settings = JIVO_SETTINGS;
  readonly replyEnrichment = jivoReplyEnrichment;

  verify(request: InboundRequest, source: ConfiguredSource<JivoSettings>): VerificationResult {
    const allowed = source.settings.allowedChannelIds.map((id) => id.trim());
    if (allowed.length === 0) return { ok: true };
    const widgetId = isRecord(request.payload) ? widgetIdOf(request.payload) : null;
    if (widgetId !== null && allowed.includes(widgetId)) return { ok: true };
    const shown = widgetId === null ? '(missing)' : JSON.stringify(widgetId);
    return { ok: false, reason: `widget_id ${shown} is not allowed on this source` };
  }

  deliveryId(): string | null {
    return null;
  }

  acceptedResponse(): unknown {
    return { result: 'ok' };
  }

  normalize(payload: JsonRecord, context: NormalizeContext): NormalizeResult {
    const eventName = isRecord(payload) ? payload.event_name : undefined;
    if (typeof eventName !== 'string') {
      return { status: 'unprocessable', reason: missingEventNameReason(payload) };
    }
    try {
      return { status: 'ok', event: buildEvent(payload, eventName, context) };
    } catch (error) {
      const detail = error instanceof Error ? error.message : 'unknown error';
      return { status: 'unprocessable', reason: `${eventName} could not be mapped: ${detail}` };
    }
  }
}

function missingEventNameReason(payload: unknown): string {
  if (isRecord(payload) && typeof payload.event === 'string') {
    return 'no event_name: this looks like a Jivo Bot API payload, which jivo sources do not take';
  }
  return 'event_name is missing or not a string: not a Jivo Webhooks API payload';
}

function buildEvent(
  payload: JivoWebhookPayload,
  eventName: string,
  context: NormalizeContext,
): CanonicalEventBody {
  const rule = ruleFor(eventName);
  const contact = readContact(payload);
  const chatId = asId(payload.chat_id);
  const agents = readAgents(payload);
  const messages =
    eventName === 'chat_finished'
      ? readTranscript(payload.chat, { chatId, contact: contactActor(contact), agents })
      : [];
  const conversation = readConversation(payload, eventName, rule, context, {
    agents,
    assignee: handlingAgent(payload, agents, messages),
    messages,
  });
  return {
    type: rule.type,
    // Jivo envelopes carry no event time. chat_finished's last message time is not when the chat
    // ended (Jivo closes it later, e.g. once the visitor has left), so all take receivedAt.
    occurredAt: null,
    sourceEvent: eventName,
    conversation,
    contact,
    actor: actorFor(rule, payload, contact),
    message:
      eventName === 'offline_message'
        ? offlineMessage(payload, chatId, contactActor(contact))
        : null,
    messages,
    changes: null, // Jivo sends current state only; previous values are unknown.
    session: readSession(payload),
    extensions: { jivo: jivoExtensions(payload, rule, conversation, contact) },
  };
}

/** The chat id; legacy offline messages have none, so their own id stands in for it. */
function conversationId(payload: JivoWebhookPayload, eventName: string): string | null {
  const chatId = asId(payload.chat_id);
  if (chatId !== null || eventName !== 'offline_message') return chatId;
  const offlineId = asId(payload.offline_message_id);
  return offlineId === null ? null : `offline-${offlineId}`;
}

function readConversation(
  payload: JivoWebhookPayload,
  eventName: string,
  rule: EventRule,
  context: NormalizeContext,
  { agents, assignee, messages }: { agents: Agent[]; assignee: Agent | null; messages: Message[] },
): Conversation | null {
  const id = conversationId(payload, eventName);
  if (id === null) return null;
  return {
    key: `${context.kind}:${context.sourceId}:${id}`,
    externalId: id,
    status: rule.status,
    channel: { type: 'web_widget', externalId: widgetIdOf(payload), name: null },
    team: readTeam(payload.department),
    assignee,
    agents,
    labels: readLabels(payload.tags),
    rating: readRating(asRecord(payload.chat)?.rate),
    ...transcriptSpan(messages),
    attributes: {},
  };
}

/**
 * The agent handling the chat, the same on every event: `agent` where Jivo names one
 * (chat_accepted, chat_updated, call_event), else the last agent who wrote in the transcript
 * (chat_finished), else the only entry of `agents[]`. `assigned_agent` is not it: that is the
 * client's responsible person in Jivo's CRM, kept in the extensions.
 */
function handlingAgent(
  payload: JivoWebhookPayload,
  agents: Agent[],
  messages: Message[],
): Agent | null {
  return (
    readAgent(payload.agent) ??
    lastAgentWriter(messages, agents) ??
    (agents.length === 1 ? agents[0] : null)
  );
}

function actorFor(rule: EventRule, payload: JivoWebhookPayload, contact: Contact | null): Actor {
  const agent = readAgent(payload.agent);
  switch (rule.actor) {
    case 'agent':
      return agent ? agentActor(agent) : systemActor();
    case 'agentElseContact':
      return agent ? agentActor(agent) : contactActor(contact);
    case 'contact':
      return contactActor(contact);
    case 'system':
      return systemActor();
  }
}

/** What Jivo sent that has no canonical field; absent and null values are left out. */
function jivoExtensions(
  payload: JivoWebhookPayload,
  rule: EventRule,
  conversation: Conversation | null,
  contact: Contact | null,
): Record<string, unknown> {
  const chat = asRecord(payload.chat) as JivoChat | null;
  const visitor = asRecord(payload.visitor) as JivoVisitor | null;
  const visitorNumber = asId(visitor?.number);
  const extension: Record<string, unknown> = {
    organization: readOrganization(payload.organization),
    clientStatus: readClientStatus(payload.status),
    topic: readTopic(payload.topic),
    analytics: nonEmptyRecord(payload.analytics),
    social: nonEmptyRecord(visitor?.social),
    visitorNumber: visitorNumber === contact?.externalId ? null : visitorNumber,
    plainMessages: asString(payload.plain_messages),
    htmlMessages: asString(payload.html_messages),
    blacklisted: asBoolean(chat?.blacklisted),
    invitation: asString(chat?.invitation),
    rate: readRating(chat?.rate) === null ? asString(chat?.rate) : null,
    call: readCall(payload.call),
    assignTo: asString(payload.assign_to),
    attributes: isRecord(payload.attributes) ? null : (payload.attributes ?? null),
    assignedAgent: readAssignedAgent(payload.assigned_agent),
    ...(conversation === null ? conversationlessFields(payload) : {}),
    payload: rule === UNKNOWN_EVENT ? { ...payload } : null,
  };
  const present: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(extension)) {
    if (value !== null && value !== undefined) present[key] = value;
  }
  return present;
}

/** Without a conversation these chat-level fields would have nowhere to go. */
function conversationlessFields(payload: JivoWebhookPayload): Record<string, unknown> {
  return {
    widgetId: widgetIdOf(payload),
    department: readNamedRef(payload.department),
    tags: readTags(payload.tags),
  };
}
