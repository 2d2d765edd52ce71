import { ApiProperty } from '@nestjs/swagger';
import type { Agent, Channel, Team } from '../../canonical/canonical-event';
import { EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../../common/openapi-examples';

export const EXAMPLE_CONVERSATION_ID = 'conv_01JDA2B8N6M4P2Q7R5S3T1V9WX';
export const EXAMPLE_CONTACT_ID = 'ct_01JDA2B8N6M4P2Q7R5S3T1V9WY';
export const EXAMPLE_IDENTITY_ID = 'cti_01JDA2B8N6M4P2Q7R5S3T1V9WZ';

export class MessagePreviewView {
  @ApiProperty({ example: '88122' })
  externalId: string;

  @ApiProperty({ enum: ['inbound', 'outbound', 'internal'], nullable: true, example: 'inbound' })
  direction: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'Olá! Preciso de ajuda' })
  text: string | null;

  @ApiProperty({ nullable: true, type: String, example: EXAMPLE_TIMESTAMP })
  createdAt: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'Maria Souza' })
  senderName: string | null;

  @ApiProperty({ example: false })
  deleted: boolean;
}

export class MessageCountsView {
  @ApiProperty({ example: 3 })
  inbound: number;

  @ApiProperty({ example: 2 })
  outbound: number;

  @ApiProperty({ example: 0 })
  internal: number;
}

/** A conversation's state, as GET /api/conversations lists it. */
export class ConversationView {
  @ApiProperty({ example: EXAMPLE_CONVERSATION_ID })
  id: string;

  @ApiProperty({ example: `chatwoot:${EXAMPLE_IDS.source}:42` })
  key: string;

  @ApiProperty({ example: EXAMPLE_IDS.source })
  sourceId: string;

  @ApiProperty({ example: 'chatwoot' })
  sourceKind: string;

  @ApiProperty({ example: '42', description: "The source's own conversation id" })
  externalId: string;

  @ApiProperty({ nullable: true, type: String, example: EXAMPLE_CONTACT_ID })
  contactId: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    example: '5821',
    description: "The contact's own id on this source",
  })
  contactExternalId: string | null;

  @ApiProperty({
    enum: ['open', 'pending', 'snoozed', 'resolved', 'offline', 'unknown'],
    example: 'open',
  })
  status: string;

  @ApiProperty({
    type: Object,
    nullable: true,
    example: { type: 'whatsapp', externalId: '7', name: 'WhatsApp' },
  })
  channel: Channel | null;

  @ApiProperty({ type: Object, nullable: true, example: null })
  team: Team | null;

  @ApiProperty({
    type: Object,
    nullable: true,
    example: { externalId: '3', name: 'Ana', email: null, phone: null, kind: 'human' },
  })
  assignee: Agent | null;

  @ApiProperty({ type: [Object], example: [] })
  agents: Agent[];

  @ApiProperty({ type: [String], example: ['vip'] })
  labels: string[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: '`positive`, `negative`, or null when not rated',
    example: null,
  })
  rating: string | null;

  @ApiProperty({ type: Object, example: {} })
  attributes: Record<string, unknown>;

  @ApiProperty({ nullable: true, type: String, example: EXAMPLE_TIMESTAMP })
  startedAt: string | null;

  @ApiProperty({ nullable: true, type: String, example: null })
  endedAt: string | null;

  @ApiProperty({ nullable: true, type: String, example: EXAMPLE_TIMESTAMP })
  firstActivityAt: string | null;

  @ApiProperty({ nullable: true, type: String, example: EXAMPLE_TIMESTAMP })
  lastActivityAt: string | null;

  @ApiProperty({ type: MessageCountsView })
  messageCounts: MessageCountsView;

  @ApiProperty({ type: MessagePreviewView, nullable: true })
  lastMessage: MessagePreviewView | null;
}

export class TimelineEntryView {
  @ApiProperty({ example: EXAMPLE_IDS.event })
  eventId: string;

  @ApiProperty({ example: 'message.created' })
  type: string;

  @ApiProperty({ example: 'message_created', nullable: true, type: String })
  sourceEvent: string | null;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  occurredAt: string;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  receivedAt: string;

  @ApiProperty({
    type: Object,
    nullable: true,
    description: "The event's message (direction, sender, text, attachments), if any",
    example: {
      externalId: '88122',
      direction: 'inbound',
      kind: 'text',
      text: 'Olá!',
      attachments: [],
      sender: { type: 'contact', externalId: '5821', name: 'Maria Souza', email: null },
      createdAt: EXAMPLE_TIMESTAMP,
    },
  })
  message: unknown;

  @ApiProperty({
    type: [Object],
    required: false,
    description: 'The transcript the event carries (Jivo chat_finished), when it has one',
  })
  messages?: unknown[];

  @ApiProperty({ type: Object, nullable: true, example: null })
  changes: unknown;
}

export class ConversationDetail extends ConversationView {
  @ApiProperty({
    type: [TimelineEntryView],
    description: "Every stored canonical event of the conversation, in the source's order",
  })
  timeline: TimelineEntryView[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The next page of the timeline (`?timelineCursor=`), when it is longer than one',
    example: null,
  })
  timelineNextCursor: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'Events received before this time were purged (retention): the timeline may lack them, the state does not',
  })
  eventsPurgedBefore: string | null;
}

export class ContactIdentityView {
  @ApiProperty({ example: EXAMPLE_IDENTITY_ID })
  id: string;

  @ApiProperty({ example: EXAMPLE_IDS.source })
  sourceId: string;

  @ApiProperty({ example: 'chatwoot' })
  sourceKind: string;

  @ApiProperty({ example: '5821', description: "The contact's own id on the source" })
  externalId: string;

  @ApiProperty({ nullable: true, type: String, example: 'Maria Souza' })
  name: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'maria.souza@example.com' })
  email: string | null;

  @ApiProperty({ nullable: true, type: String, example: '+55 11 98765-4321' })
  phone: string | null;

  @ApiProperty({ nullable: true, type: String, example: '+5511987654321' })
  phoneE164: string | null;

  @ApiProperty({
    example: true,
    description: 'False once split out by hand: never joined automatically again',
  })
  autoJoin: boolean;
}

export class ContactView {
  @ApiProperty({ example: EXAMPLE_CONTACT_ID })
  id: string;

  @ApiProperty({ nullable: true, type: String, example: 'Maria Souza' })
  name: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'maria.souza@example.com' })
  email: string | null;

  @ApiProperty({ nullable: true, type: String, example: '+5511987654321' })
  phoneE164: string | null;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  createdAt: string;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  updatedAt: string;
}

export class ContactLinkView {
  @ApiProperty({ enum: ['created', 'email', 'phone', 'merge', 'split'], example: 'email' })
  reason: string;

  @ApiProperty({ nullable: true, type: String, example: EXAMPLE_IDENTITY_ID })
  identityId: string | null;

  @ApiProperty({ nullable: true, type: String, example: null })
  otherContactId: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'maria.souza@example.com' })
  value: string | null;

  @ApiProperty({ nullable: true, type: String, example: EXAMPLE_IDS.event })
  eventId: string | null;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  at: string;
}

export class ContactDetail extends ContactView {
  @ApiProperty({ type: [ContactIdentityView] })
  identities: ContactIdentityView[];

  @ApiProperty({ type: [ConversationView], description: 'On every source, newest activity first' })
  conversations: ConversationView[];

  @ApiProperty({ type: [ContactLinkView], description: 'How its identities joined or left it' })
  links: ContactLinkView[];
}
