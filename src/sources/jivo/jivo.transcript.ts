import { createHash } from 'node:crypto';
import { Actor, Agent, Message } from '../../canonical/canonical-event';
import { asArray, asId, asRecord, asString, toIsoTime } from '../../canonical/coerce';
import { JivoChat, JivoChatMessage, JivoWebhookPayload } from './jivo.payload';
import { agentActor, systemActor } from './jivo.readers';

/** Jivo messages carry no ids: derive one from what identifies a message within its chat. */
function derivedMessageId(parts: unknown[]): string {
  return createHash('sha1').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

interface TranscriptContext {
  chatId: string | null;
  contact: Actor;
  agents: Agent[];
}

/**
 * `chat.messages` of chat_finished, kept in the order Jivo sent them. Ids hash normalized
 * values, so numeric and string spellings of one message give the same id.
 */
export function readTranscript(chat: unknown, context: TranscriptContext): Message[] {
  const messages = asArray(asRecord(chat)?.messages as JivoChat['messages']);
  return messages.flatMap((item, index) => {
    const wire = asRecord(item) as JivoChatMessage | null;
    return wire ? [transcriptMessage(wire, index, context)] : [];
  });
}

function transcriptMessage(
  wire: JivoChatMessage,
  index: number,
  context: TranscriptContext,
): Message {
  const type = asString(wire.type);
  const agentId = asId(wire.agent_id);
  const createdAt = toIsoTime(wire.timestamp);
  const origin = messageOrigin(type);
  return {
    externalId: derivedMessageId([context.chatId, index, createdAt, type, agentId]),
    direction: origin === 'contact' ? 'inbound' : origin === 'agent' ? 'outbound' : 'internal',
    kind: origin === 'other' ? 'system' : 'text',
    text: asString(wire.message),
    attachments: [],
    sender:
      origin === 'contact'
        ? context.contact
        : origin === 'agent'
          ? messageAgent(agentId, context.agents)
          : systemActor(),
    createdAt,
    private: false,
    deleted: false,
    status: null,
  };
}

/** Documented types are `visitor` and `agent`; the doc's prose calls the visitor "client". */
function messageOrigin(type: string | null): 'contact' | 'agent' | 'other' {
  const normalized = type?.trim().toLowerCase();
  if (normalized === 'visitor' || normalized === 'client') return 'contact';
  if (normalized === 'agent') return 'agent';
  return 'other';
}

function messageAgent(agentId: string | null, agents: Agent[]): Actor {
  const known = agentId === null ? undefined : agents.find((a) => a.externalId === agentId);
  return known
    ? agentActor(known)
    : { type: 'agent', externalId: agentId, name: null, email: null };
}

/** The offline form's text as one inbound message; legacy payloads without an id get a derived one. */
export function offlineMessage(
  payload: JivoWebhookPayload,
  chatId: string | null,
  sender: Actor,
): Message {
  const text = asString(payload.message);
  return {
    externalId: asId(payload.offline_message_id) ?? derivedMessageId(['offline', chatId, text]),
    direction: 'inbound',
    kind: 'text',
    text,
    attachments: [],
    sender,
    createdAt: null,
    private: false,
    deleted: false,
    status: null,
  };
}

/** The agent of the latest agent message that names one (a tie goes to the later in the list). */
export function lastAgentWriter(messages: Message[], agents: Agent[]): Agent | null {
  let latest: { agentId: string; createdAt: string } | null = null;
  for (const { sender, createdAt } of messages) {
    if (sender?.type !== 'agent' || sender.externalId === null) continue;
    const at = createdAt ?? '';
    if (latest === null || at >= latest.createdAt)
      latest = { agentId: sender.externalId, createdAt: at };
  }
  if (latest === null) return null;
  const { agentId } = latest;
  const known = agents.find((agent) => agent.externalId === agentId);
  return known ?? { externalId: agentId, name: null, email: null, phone: null, kind: 'human' };
}

/** Earliest and latest message times, so a misordered transcript cannot skew them. */
export function transcriptSpan(messages: Message[]): {
  startedAt: string | null;
  endedAt: string | null;
} {
  const times = messages
    .map((message) => message.createdAt)
    .filter((time): time is string => time !== null)
    .sort();
  return { startedAt: times[0] ?? null, endedAt: times[times.length - 1] ?? null };
}
