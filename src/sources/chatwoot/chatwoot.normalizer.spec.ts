import {
  itCoversEveryFixture,
  itIdentifiesEachFixture,
  itLeavesThePayloadUntouched,
  itRefusesAsUnprocessable,
  normalizerHarness,
} from '../testing/normalizer-harness';
import {
  Actor,
  Agent,
  CanonicalEventBody,
  Contact,
  Session,
} from '../../canonical/canonical-event';
import { JsonRecord } from '../../canonical/coerce';
import { InboundRequest } from '../source-normalizer';
import { ConfiguredSource } from '../source-settings';
import { ChatwootSettings } from './chatwoot.settings';
import { ChatwootNormalizer } from './chatwoot.normalizer';
import { chatwootSignature } from './chatwoot.signature';

const normalizer = new ChatwootNormalizer();
const harness = normalizerHarness(normalizer);
const { normalizeOk, schemaProblems, fixture } = harness;

/** Normalizes a fresh copy of a fixture, after `edit` adjusted it. */
function normalizeFile(file: string, edit?: (payload: JsonRecord) => void): CanonicalEventBody {
  const payload = fixture(file);
  edit?.(payload);
  return normalizeOk(payload);
}

/** normalizeFile, inside a test: also asserts that the enveloped event passes the schema. */
function normalizeFixture(file: string, edit?: (payload: JsonRecord) => void): CanonicalEventBody {
  const body = normalizeFile(file, edit);
  expect(schemaProblems(body)).toEqual([]);
  return body;
}

const record = (value: unknown) => value as JsonRecord;

// --- The story's cast: the people and ids the fixtures share --------------------------------

const MARIA: Contact = {
  externalId: '5821',
  name: 'Maria Souza',
  email: 'maria.souza@example.com',
  phone: null,
  phoneE164: null,
  description: null,
  avatarUrl: null,
  attributes: {},
  userToken: null,
  chatsCount: null,
};

const MARIA_ACTOR: Actor = {
  type: 'contact',
  externalId: '5821',
  name: 'Maria Souza',
  email: 'maria.souza@example.com',
};

const DANIEL: Agent = {
  externalId: '14',
  name: 'Daniel Okafor',
  email: null,
  phone: null,
  kind: 'human',
};

const DANIEL_ACTOR: Actor = {
  type: 'agent',
  externalId: '14',
  name: 'Daniel Okafor',
  email: 'daniel.okafor@acme.example',
};

const SYSTEM: Actor = { type: 'system', externalId: null, name: null, email: null };

const WIDGET_CHANNEL = { type: 'web_widget', externalId: '11', name: null };
const NAMED_WIDGET_CHANNEL = { ...WIDGET_CHANNEL, name: 'Acme Website' };

const CHROME_ON_MAC = {
  name: 'Chrome',
  version: '124.0.6367.118',
  platform: 'macOS',
  platformVersion: '10.15.7',
  device: 'Unknown',
};

const SAO_PAULO = {
  country: 'Brazil',
  countryCode: 'BR',
  region: null,
  regionCode: null,
  city: 'São Paulo',
  latitude: null,
  longitude: null,
  organization: null,
};

const WIDGET_SESSION: Session = {
  ip: '189.45.201.17',
  userAgent: null,
  language: 'pt',
  referrer: null,
  page: { url: 'https://shop.acme.example/orders/4471', title: null },
  geo: SAO_PAULO,
  utm: null,
  browser: CHROME_ON_MAC,
};

const CONTACT_INBOX = { id: '7304', sourceId: '2f6a3c9e-8b1d-4e7a-9c52-7d4e1b0a6f38' };

const SCREENSHOT = {
  type: 'image',
  url: expect.stringMatching(
    /^https:\/\/chat\.acme\.example\/rails\/active_storage\/blobs\/redirect\/.+\/IMG_20260416_110532\.jpg$/,
  ),
  name: 'IMG_20260416_110532.jpg',
  mimeType: 'image/jpeg',
  size: 284913,
};

const REPLY_TEXT =
  "Thanks, Maria! I can see the duplicate charge on order #4471 — I've refunded it. You'll see it in 3-5 business days.";

const PAYLOAD_FIXTURES = [
  'contact_created.json',
  'contact_updated.json',
  'conversation_created.json',
  'conversation_opened.json',
  'conversation_resolved.json',
  'conversation_status_changed.json',
  'conversation_typing_on.json',
  'conversation_updated.json',
  'conversation_updated.status_resolved.json',
  'inbox_created.json',
  'message_created.activity.synthetic_never_sent.json',
  'message_created.json',
  'message_created.outgoing_agent.json',
  'message_created.private_note.json',
  'message_updated.json',
  'webwidget_triggered.json',
];

itCoversEveryFixture(harness, (file) => /^[^_].*\.json$/.test(file), PAYLOAD_FIXTURES);

// The time is the change's (updated_at, created_at, the event's own), where the payload has one.
itIdentifiesEachFixture(harness, [
  {
    file: 'contact_created.json',
    type: 'contact.created',
    sourceEvent: 'contact_created',
    occurredAt: null,
  },
  {
    file: 'contact_updated.json',
    type: 'contact.updated',
    sourceEvent: 'contact_updated',
    occurredAt: '2026-04-16T14:05:11.201Z',
  },
  {
    file: 'conversation_created.json',
    type: 'conversation.created',
    sourceEvent: 'conversation_created',
    occurredAt: '2026-04-16T14:05:11.611Z',
  },
  {
    file: 'conversation_opened.json',
    type: 'conversation.status_changed',
    sourceEvent: 'conversation_opened',
    occurredAt: '2026-04-16T15:10:10.775Z',
  },
  {
    file: 'conversation_resolved.json',
    type: 'conversation.ended',
    sourceEvent: 'conversation_resolved',
    occurredAt: '2026-04-16T14:09:05.118Z',
  },
  {
    file: 'conversation_status_changed.json',
    type: 'conversation.ended',
    sourceEvent: 'conversation_status_changed',
    occurredAt: '2026-04-16T14:09:05.118Z',
  },
  {
    file: 'conversation_typing_on.json',
    type: 'conversation.typing_started',
    sourceEvent: 'conversation_typing_on',
    occurredAt: null,
  },
  {
    file: 'conversation_updated.json',
    type: 'conversation.updated',
    sourceEvent: 'conversation_updated',
    occurredAt: '2026-04-16T14:06:20.153Z',
  },
  {
    file: 'conversation_updated.status_resolved.json',
    type: 'conversation.updated',
    sourceEvent: 'conversation_updated',
    occurredAt: '2026-04-16T14:09:05.118Z',
  },
  {
    file: 'inbox_created.json',
    type: 'channel.created',
    sourceEvent: 'inbox_created',
    occurredAt: '2026-04-16T13:50:02.511Z',
  },
  {
    file: 'message_created.activity.synthetic_never_sent.json',
    type: 'message.created',
    sourceEvent: 'message_created',
    occurredAt: '2026-04-16T14:06:20.301Z',
  },
  {
    file: 'message_created.json',
    type: 'message.created',
    sourceEvent: 'message_created',
    occurredAt: '2026-04-16T14:05:40.913Z',
  },
  {
    file: 'message_created.outgoing_agent.json',
    type: 'message.created',
    sourceEvent: 'message_created',
    occurredAt: '2026-04-16T14:07:02.377Z',
  },
  {
    file: 'message_created.private_note.json',
    type: 'message.created',
    sourceEvent: 'message_created',
    occurredAt: '2026-04-16T14:07:31.805Z',
  },
  {
    file: 'message_updated.json',
    type: 'message.updated',
    sourceEvent: 'message_updated',
    occurredAt: '2026-04-16T14:08:10.642Z',
  },
  {
    file: 'webwidget_triggered.json',
    type: 'widget.opened',
    sourceEvent: 'webwidget_triggered',
    occurredAt: '2026-04-16T14:04:30.000Z',
  },
]);

// --- One block per fixture ------------------------------------------------------------------

describe('contact_created.json (widget visitor with a generated name)', () => {
  const body = normalizeFile('contact_created.json');

  it('maps the contact; empty avatar and thumbnail become null', () => {
    expect(body.contact).toEqual({
      ...MARIA,
      name: 'snowy-sun-611',
      email: null,
    });
  });

  it('has no conversation, message or changes; the actor is the system', () => {
    expect(body.conversation).toBeNull();
    expect(body.message).toBeNull();
    expect(body.messages).toEqual([]);
    expect(body.changes).toBeNull();
    expect(body.actor).toEqual(SYSTEM);
  });

  it('reads the IP-lookup address into the session', () => {
    expect(body.session).toEqual({
      ip: '189.45.201.17',
      userAgent: null,
      language: null,
      referrer: null,
      page: null,
      geo: null,
      utm: null,
      browser: null,
    });
  });

  it('keeps the account and the blocked flag in extensions', () => {
    expect(body.extensions).toEqual({
      chatwoot: { account: { id: '3', name: 'Acme Retail' }, contact: { blocked: false } },
    });
  });
});

describe('contact_updated.json (pre-chat identify)', () => {
  const body = normalizeFile('contact_updated.json');

  it('maps the identified contact', () => {
    expect(body.contact).toEqual(MARIA);
    expect(body.actor).toEqual(SYSTEM);
    expect(body.conversation).toBeNull();
  });

  it('turns the changed_attributes array into changes, times as ISO', () => {
    expect(body.changes).toEqual({
      name: { previous: 'snowy-sun-611', current: 'Maria Souza' },
      email: { previous: null, current: 'maria.souza@example.com' },
      updated_at: { previous: '2026-04-16T14:03:59.140Z', current: '2026-04-16T14:05:11.201Z' },
      contact_type: { previous: 'visitor', current: 'lead' },
    });
  });

  it('reads ip and geo into the session', () => {
    expect(body.session).toEqual({
      ...WIDGET_SESSION,
      language: null,
      page: null,
      browser: null,
    });
  });
});

describe('conversation_created.json (widget conversation with its first message)', () => {
  const body = normalizeFile('conversation_created.json');

  it('maps the conversation snapshot', () => {
    expect(body.conversation).toEqual({
      key: 'chatwoot:src_test:1042',
      externalId: '1042',
      status: 'open',
      channel: WIDGET_CHANNEL,
      team: null,
      assignee: null,
      agents: [],
      labels: [],
      rating: null,
      startedAt: '2026-04-16T14:05:11.000Z',
      endedAt: null,
      attributes: {},
    });
  });

  it('takes the contact from meta.sender; the actor is the system', () => {
    expect(body.contact).toEqual(MARIA);
    expect(body.actor).toEqual(SYSTEM);
    expect(body.message).toBeNull();
    expect(body.changes).toBeNull();
  });

  it('reads messages[] (integer message_type, unix-seconds created_at) into messages', () => {
    expect(body.messages).toEqual([
      {
        externalId: '88121',
        direction: 'inbound',
        kind: 'text',
        text: 'Hi! I was charged twice for order #4471 & need one of the charges refunded.',
        attachments: [],
        sender: MARIA_ACTOR,
        createdAt: '2026-04-16T14:05:11.000Z',
        private: false,
        deleted: false,
        status: 'sent',
      },
    ]);
  });

  it('builds the session from additional_attributes and the contact IP lookup', () => {
    expect(body.session).toEqual(WIDGET_SESSION);
  });

  it('keeps the rest in extensions, without the pubsub token', () => {
    expect(body.extensions.chatwoot).toEqual({
      account: { id: '3' },
      conversation: {
        inboxId: '11',
        canReply: true,
        unreadCount: 1,
        waitingSince: '2026-04-16T14:05:11.000Z',
        lastActivityAt: '2026-04-16T14:05:11.000Z',
        updatedAt: '2026-04-16T14:05:11.611Z',
        initiatedAt: '2026-04-16T14:05:10.000Z',
        hmacVerified: false,
        contactInbox: CONTACT_INBOX,
      },
      contact: { blocked: false },
    });
    expect(JSON.stringify(body)).not.toContain('vQ3k9ZbT8xWm2RnYp6LcHs4D');
  });
});

describe('conversation_updated.json (assigned to agent 14)', () => {
  const body = normalizeFile('conversation_updated.json');

  it('names the assignee change as the canonical `assignee`, ids as strings', () => {
    expect(body.changes).toEqual({
      assignee: { previous: null, current: '14' },
      updated_at: { previous: '2026-04-16T14:05:40.997Z', current: '2026-04-16T14:06:20.153Z' },
    });
  });

  it('maps the assignee (push data: no email) and the rest of the snapshot', () => {
    const conversation = body.conversation!;
    expect(conversation.key).toBe('chatwoot:src_test:1042');
    expect(conversation.status).toBe('open');
    expect(conversation.channel).toEqual(WIDGET_CHANNEL);
    expect(conversation.team).toBeNull();
    expect(conversation.assignee).toEqual(DANIEL);
    expect(conversation.agents).toEqual([DANIEL]);
    expect(conversation.labels).toEqual([]);
    expect(conversation.endedAt).toBeNull();
  });

  it('reads the last message with its attachment', () => {
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0]).toMatchObject({
      externalId: '88122',
      direction: 'inbound',
      kind: 'text',
      attachments: [SCREENSHOT],
      createdAt: '2026-04-16T14:05:40.000Z',
    });
  });

  it('keeps contact, actor and session', () => {
    expect(body.contact).toEqual(MARIA);
    expect(body.actor).toEqual(SYSTEM);
    expect(body.session).toEqual(WIDGET_SESSION);
    expect(body.extensions.chatwoot).toMatchObject({
      conversation: { assigneeType: 'User', agentLastSeenAt: '2026-04-16T14:06:05.000Z' },
    });
  });
});

describe('conversation_updated.status_resolved.json (the update paired with resolution)', () => {
  const body = normalizeFile('conversation_updated.status_resolved.json');

  it('carries the status change', () => {
    expect(body.changes).toEqual({
      status: { previous: 'open', current: 'resolved' },
      updated_at: { previous: '2026-04-16T14:08:40.301Z', current: '2026-04-16T14:09:05.118Z' },
    });
  });

  it('marks the conversation resolved and ended at the change', () => {
    expect(body.occurredAt).toBe('2026-04-16T14:09:05.118Z');
    expect(body.conversation).toMatchObject({
      status: 'resolved',
      labels: ['billing', 'refund'],
      assignee: DANIEL,
      endedAt: '2026-04-16T14:09:05.118Z',
    });
  });

  it('reads the last public message, an agent reply already read', () => {
    expect(body.messages).toEqual([
      {
        externalId: '88125',
        direction: 'outbound',
        kind: 'text',
        text: REPLY_TEXT,
        attachments: [],
        sender: { ...DANIEL_ACTOR, email: null },
        createdAt: '2026-04-16T14:07:02.000Z',
        private: false,
        deleted: false,
        status: 'read',
      },
    ]);
  });
});

describe('conversation_status_changed.json (resolved)', () => {
  const body = normalizeFile('conversation_status_changed.json');

  it('has no changes: Chatwoot always sends changed_attributes null here', () => {
    expect(body.changes).toBeNull();
  });

  it('maps the resolved snapshot, ended at its updated_at', () => {
    expect(body.occurredAt).toBe('2026-04-16T14:09:05.118Z');
    expect(body.conversation).toEqual({
      key: 'chatwoot:src_test:1042',
      externalId: '1042',
      status: 'resolved',
      channel: WIDGET_CHANNEL,
      team: null,
      assignee: DANIEL,
      agents: [DANIEL],
      labels: ['billing', 'refund'],
      rating: null,
      startedAt: '2026-04-16T14:05:11.000Z',
      endedAt: '2026-04-16T14:09:05.118Z',
      attributes: {},
    });
    expect(body.contact).toEqual(MARIA);
    expect(body.actor).toEqual(SYSTEM);
    expect(body.session).toEqual(WIDGET_SESSION);
  });

  it('keeps the first reply time and last-seen times in extensions', () => {
    expect(body.extensions.chatwoot).toMatchObject({
      conversation: {
        firstReplyCreatedAt: '2026-04-16T14:07:02.377Z',
        contactLastSeenAt: '2026-04-16T14:08:10.000Z',
      },
    });
  });
});

describe('conversation_resolved.json (agent bot)', () => {
  const body = normalizeFile('conversation_resolved.json');
  const accountWebhook = normalizeFile('conversation_status_changed.json');

  it("is a conversation.ended, as an account webhook's conversation_status_changed is", () => {
    expect(body.type).toBe('conversation.ended');
    expect(body.sourceEvent).toBe('conversation_resolved');
  });

  it('maps the conversation exactly as the account webhook does', () => {
    expect(body.conversation).toEqual(accountWebhook.conversation);
    expect(body.occurredAt).toBe('2026-04-16T14:09:05.118Z');
    expect(body.contact).toEqual(MARIA);
    expect(body.actor).toEqual(SYSTEM);
    expect(body.changes).toBeNull();
  });

  it('takes the status from the event name, whatever the snapshot says', () => {
    const stale = normalizeFixture('conversation_resolved.json', (payload) => {
      payload.status = 'open';
    });
    expect(stale.type).toBe('conversation.ended');
    expect(stale.conversation).toMatchObject({
      status: 'resolved',
      endedAt: '2026-04-16T14:09:05.118Z',
    });
  });
});

describe('conversation_opened.json (agent bot)', () => {
  const body = normalizeFile('conversation_opened.json');

  it('opens the conversation', () => {
    expect(body.conversation).toMatchObject({
      key: 'chatwoot:src_test:1042',
      status: 'open',
      assignee: null,
      agents: [],
      endedAt: null,
    });
    expect(body.contact).toEqual(MARIA);
    expect(body.actor).toEqual(SYSTEM);
  });

  it('takes the status from the event name, whatever the snapshot says', () => {
    const stale = normalizeFixture('conversation_opened.json', (payload) => {
      payload.status = 'resolved';
    });
    expect(stale.type).toBe('conversation.status_changed');
    expect(stale.conversation).toMatchObject({ status: 'open', endedAt: null });
  });

  it('gives the type an account webhook gives the same change', () => {
    const accountWebhook = normalizeFixture('conversation_opened.json', (payload) => {
      payload.event = 'conversation_status_changed';
      payload.changed_attributes = null;
    });
    expect(accountWebhook.type).toBe(body.type);
    expect(accountWebhook.conversation).toEqual(body.conversation);
  });
});

describe('conversation_typing_on.json (an agent typing)', () => {
  const body = normalizeFile('conversation_typing_on.json');

  it('has the typing user as actor', () => {
    expect(body.actor).toEqual(DANIEL_ACTOR);
  });

  it('leaves occurredAt to the router: the snapshot times are not the keystroke', () => {
    expect(body.occurredAt).toBeNull();
  });

  it('maps the nested conversation and its contact', () => {
    expect(body.conversation).toMatchObject({
      key: 'chatwoot:src_test:1042',
      status: 'open',
      channel: WIDGET_CHANNEL,
      assignee: DANIEL,
      labels: ['billing', 'refund'],
    });
    expect(body.contact).toEqual(MARIA);
    expect(body.message).toBeNull();
    expect(body.changes).toBeNull();
    expect(body.session).toEqual(WIDGET_SESSION);
  });

  it('keeps is_private in extensions', () => {
    expect(body.extensions.chatwoot).toMatchObject({ typing: { isPrivate: false } });
  });
});

describe('inbox_created.json (inbox presenter with secrets in its channel)', () => {
  const body = normalizeFile('inbox_created.json');

  it('has no conversation, contact or session', () => {
    expect(body.conversation).toBeNull();
    expect(body.contact).toBeNull();
    expect(body.session).toBeNull();
    expect(body.actor).toEqual(SYSTEM);
    expect(body.message).toBeNull();
    expect(body.changes).toBeNull();
  });

  it('keeps the inbox in extensions without its secrets, callback URL or inbox identifier', () => {
    const inbox = record(body.extensions.chatwoot.inbox);
    expect(inbox).toMatchObject({ timezone: 'UTC', greeting_enabled: false });
    expect(record(inbox.channel)).not.toHaveProperty('webhook_url');
    expect(record(inbox.channel)).not.toHaveProperty('identifier');
    expect(JSON.stringify(body)).not.toContain('router.example.net/webhooks');
    expect(JSON.stringify(body)).not.toContain('Xq9fP2mRk7TzL4nW8vYc3bHd');
    expect(record(inbox.channel)).not.toHaveProperty('secret');
    expect(record(inbox.channel)).not.toHaveProperty('hmac_token');
    expect(JSON.stringify(body)).not.toContain('3vQmZ8kT1xYp9cRw5nLb7HsD');
    expect(JSON.stringify(body)).not.toContain('hT5vN8qZ2mKx7pRw4cYb9LsF');
    expect(body.extensions.chatwoot.account).toEqual({ id: '3' });
  });
});

describe('message_created.activity.synthetic_never_sent.json (never sent; mapped anyway)', () => {
  const body = normalizeFile('message_created.activity.synthetic_never_sent.json');

  it('maps an activity message as an internal system message from the system', () => {
    expect(body.type).toBe('message.created');
    expect(body.message).toEqual({
      externalId: '88123',
      direction: 'internal',
      kind: 'system',
      text: 'Assigned to Daniel Okafor by Priya Nair',
      attachments: [],
      sender: SYSTEM,
      createdAt: '2026-04-16T14:06:20.301Z',
      private: false,
      deleted: false,
      status: null,
    });
    expect(body.actor).toEqual(SYSTEM);
    expect(body.occurredAt).toBe('2026-04-16T14:06:20.301Z');
  });

  it('still takes the contact from the conversation', () => {
    expect(body.contact).toEqual(MARIA);
  });
});

describe('message_created.json (incoming message with an image)', () => {
  const body = normalizeFile('message_created.json');

  it('maps the message: string message_type, attachment, status from the snapshot', () => {
    expect(body.message).toEqual({
      externalId: '88122',
      direction: 'inbound',
      kind: 'text',
      text: "Here's the screenshot from my bank app",
      attachments: [SCREENSHOT],
      sender: MARIA_ACTOR,
      createdAt: '2026-04-16T14:05:40.913Z',
      private: false,
      deleted: false,
      status: 'sent',
    });
    expect(body.messages).toEqual([]);
  });

  it('takes the conversation from payload.conversation and names the channel from inbox', () => {
    expect(body.conversation).toEqual({
      key: 'chatwoot:src_test:1042',
      externalId: '1042',
      status: 'open',
      channel: NAMED_WIDGET_CHANNEL,
      team: null,
      assignee: null,
      agents: [],
      labels: [],
      rating: null,
      startedAt: '2026-04-16T14:05:11.000Z',
      endedAt: null,
      attributes: {},
    });
  });

  it('has the sending contact as contact and actor', () => {
    expect(body.contact).toEqual(MARIA);
    expect(body.actor).toEqual(MARIA_ACTOR);
    expect(body.changes).toBeNull();
    expect(body.session).toEqual(WIDGET_SESSION);
  });

  it('keeps account, inbox, content attributes and attachment extras in extensions', () => {
    expect(body.extensions.chatwoot).toMatchObject({
      account: { id: '3', name: 'Acme Retail' },
      inbox: { id: '11', name: 'Acme Website' },
      message: {
        contentType: 'text',
        contentAttributes: { in_reply_to: null },
        attachments: [{ id: '40917', fileType: 'image', extension: 'jpg' }],
      },
    });
  });
});

describe('message_created.outgoing_agent.json (agent reply)', () => {
  const body = normalizeFile('message_created.outgoing_agent.json');

  it('maps an outbound text from the agent', () => {
    expect(body.message).toEqual({
      externalId: '88125',
      direction: 'outbound',
      kind: 'text',
      text: REPLY_TEXT,
      attachments: [],
      sender: DANIEL_ACTOR,
      createdAt: '2026-04-16T14:07:02.377Z',
      private: false,
      deleted: false,
      status: 'sent',
    });
    expect(body.actor).toEqual(DANIEL_ACTOR);
  });

  it('still has the customer as contact, from meta.sender', () => {
    expect(body.contact).toEqual(MARIA);
    expect(body.conversation).toMatchObject({
      channel: NAMED_WIDGET_CHANNEL,
      assignee: DANIEL,
      labels: ['billing', 'refund'],
    });
  });
});

describe('message_created.private_note.json (private note with a mention)', () => {
  const body = normalizeFile('message_created.private_note.json');

  it('maps an internal, private message', () => {
    expect(body.type).toBe('message.created');
    expect(body.message).toEqual({
      externalId: '88126',
      direction: 'internal',
      kind: 'text',
      text: 'Refund issued in Stripe (re_3Pq8XK2eZvKYlo2C1x9abc4). cc [@Priya Nair](mention://user/9/Priya%20Nair)',
      attachments: [],
      sender: DANIEL_ACTOR,
      createdAt: '2026-04-16T14:07:31.805Z',
      private: true,
      deleted: false,
      status: null,
    });
    expect(body.actor).toEqual(DANIEL_ACTOR);
  });

  it('does not borrow the status of the other message in the snapshot', () => {
    expect(body.message!.status).toBeNull();
    expect(body.messages).toEqual([]);
  });
});

describe('message_updated.json (reply marked read)', () => {
  const body = normalizeFile('message_updated.json');

  it('reads the status from conversation.messages[] with the same id', () => {
    expect(body.message).toEqual({
      externalId: '88125',
      direction: 'outbound',
      kind: 'text',
      text: REPLY_TEXT,
      attachments: [],
      sender: DANIEL_ACTOR,
      createdAt: '2026-04-16T14:07:02.377Z',
      private: false,
      deleted: false,
      status: 'read',
    });
  });

  it('keeps conversation, contact and actor', () => {
    expect(body.conversation?.key).toBe('chatwoot:src_test:1042');
    expect(body.contact).toEqual(MARIA);
    expect(body.actor).toEqual(DANIEL_ACTOR);
  });
});

describe('webwidget_triggered.json (bubble opened, no conversation yet)', () => {
  const body = normalizeFile('webwidget_triggered.json');

  it('has the visitor as contact and actor, and no conversation', () => {
    const visitor = { ...MARIA, name: 'snowy-sun-611', email: null };
    expect(body.contact).toEqual(visitor);
    expect(body.actor).toEqual({
      type: 'contact',
      externalId: '5821',
      name: 'snowy-sun-611',
      email: null,
    });
    expect(body.conversation).toBeNull();
    expect(body.messages).toEqual([]);
  });

  it('builds the session from event_info and the contact', () => {
    expect(body.session).toEqual(WIDGET_SESSION);
  });

  it('keeps the contact_inbox id, widget language and inbox in extensions', () => {
    expect(body.extensions.chatwoot).toEqual({
      account: { id: '3', name: 'Acme Retail' },
      inbox: { id: '11', name: 'Acme Website' },
      contact: { blocked: false },
      widget: {
        contactInboxId: '7304',
        sourceId: '2f6a3c9e-8b1d-4e7a-9c52-7d4e1b0a6f38',
        widgetLanguage: 'pt_BR',
        initiatedAt: '2026-04-16T14:04:30.000Z',
      },
    });
  });
});

// --- Beyond the fixtures --------------------------------------------------------------------

describe('message_type: a string at the top level, an integer inside messages[]', () => {
  it.each([
    ['incoming', 'inbound', 'text'],
    [0, 'inbound', 'text'],
    ['outgoing', 'outbound', 'text'],
    [1, 'outbound', 'text'],
    ['1', 'outbound', 'text'],
    ['activity', 'internal', 'system'],
    [2, 'internal', 'system'],
    ['template', 'outbound', 'template'],
    [3, 'outbound', 'template'],
  ])('reads %p at the top level as %s / %s', (messageType, direction, kind) => {
    const body = normalizeFixture('message_created.outgoing_agent.json', (payload) => {
      payload.message_type = messageType;
    });
    expect(body.message).toMatchObject({ direction, kind });
  });

  it.each([
    ['incoming', 'inbound'],
    [0, 'inbound'],
    ['outgoing', 'outbound'],
    [1, 'outbound'],
  ])('reads %p inside conversation.messages[] as %s', (messageType, direction) => {
    const body = normalizeFixture('conversation_created.json', (payload) => {
      const messages = payload.messages as JsonRecord[];
      messages[0] = { ...messages[0], message_type: messageType };
    });
    expect(body.messages[0].direction).toBe(direction);
  });

  it('falls back to the sender when message_type is missing', () => {
    const body = normalizeFixture('message_created.json', (payload) => {
      delete payload.message_type;
    });
    expect(body.message?.direction).toBe('inbound');
  });
});

describe('message details', () => {
  it('a private outgoing message is internal whatever its type', () => {
    const body = normalizeFixture('message_created.outgoing_agent.json', (payload) => {
      payload.private = true;
    });
    expect(body.message).toMatchObject({ direction: 'internal', private: true });
  });

  it('reads deletion from content_attributes.deleted on message_updated', () => {
    const body = normalizeFixture('message_updated.json', (payload) => {
      payload.content = 'This message was deleted';
      payload.content_attributes = { deleted: true };
    });
    expect(body.type).toBe('message.updated');
    expect(body.message).toMatchObject({ deleted: true, text: 'This message was deleted' });
  });

  it('a media-only WhatsApp message is an attachment message', () => {
    const body = normalizeFixture('message_created.json', (payload) => {
      payload.content = null;
      payload.attachments = [
        {
          id: 40950,
          file_type: 'audio',
          content_type: 'audio/ogg',
          data_url:
            'https://chat.acme.example/rails/active_storage/blobs/redirect/xyz/voice%20note.ogg?disposition=inline',
          file_size: '5120',
          transcribed_text: 'hello',
        },
        { id: 40951, file_type: 'location', coordinates_lat: -23.5, coordinates_long: -46.6 },
        { id: 40952, file_type: 'story_mention', data_url: 'https://cdn.example/' },
      ];
      record(payload.conversation).channel = 'Channel::Whatsapp';
    });
    expect(body.message).toMatchObject({
      kind: 'attachment',
      text: null,
      attachments: [
        {
          type: 'audio',
          url: 'https://chat.acme.example/rails/active_storage/blobs/redirect/xyz/voice%20note.ogg?disposition=inline',
          name: 'voice note.ogg',
          mimeType: 'audio/ogg',
          size: 5120,
        },
        { type: 'location', url: null, name: null, mimeType: null, size: null },
        { type: 'other', url: 'https://cdn.example/', name: null, mimeType: null, size: null },
      ],
    });
    expect(body.conversation?.channel?.type).toBe('whatsapp');
    expect(record(body.extensions.chatwoot.message).attachments).toEqual([
      { id: '40950', fileType: 'audio', transcribedText: 'hello' },
      { id: '40951', fileType: 'location', latitude: -23.5, longitude: -46.6 },
      { id: '40952', fileType: 'story_mention' },
    ]);
  });

  it.each([['input_select'], ['input_email'], ['input_csat'], ['form']])(
    'content_type %p is an input message',
    (contentType) => {
      const body = normalizeFixture('message_created.outgoing_agent.json', (payload) => {
        payload.content_type = contentType;
      });
      expect(body.message?.kind).toBe('input');
    },
  );

  it.each([
    [{ id: 3, name: 'Triage bot', type: 'agent_bot' }, 'bot'],
    [{ id: 5, name: 'Captain', description: 'AI', type: 'captain_assistant' }, 'bot'],
    [{ id: 14, name: 'Daniel', email: 'd@acme.example', type: 'user' }, 'agent'],
  ])('maps the sender %p to a %s actor', (sender, type) => {
    const body = normalizeFixture('message_created.outgoing_agent.json', (payload) => {
      payload.sender = sender;
    });
    expect(body.actor).toMatchObject({ type, externalId: String(sender.id) });
    expect(body.message?.sender).toEqual(body.actor);
  });

  it('reads sender_type when the sender object is absent', () => {
    const body = normalizeFixture('message_created.outgoing_agent.json', (payload) => {
      delete payload.sender;
      payload.sender_type = 'AgentBot';
      payload.sender_id = 3;
    });
    expect(body.actor).toEqual({ type: 'bot', externalId: '3', name: null, email: null });
  });

  it('a template message without sender comes from the system', () => {
    const body = normalizeFixture('message_created.outgoing_agent.json', (payload) => {
      payload.message_type = 'template';
      payload.content_type = 'input_email';
      payload.sender = null;
    });
    expect(body.message).toMatchObject({ kind: 'template', direction: 'outbound', sender: SYSTEM });
    expect(body.actor).toEqual(SYSTEM);
  });

  it('prefers a status sent at the top level (PR #15908) over the snapshot', () => {
    const body = normalizeFixture('message_updated.json', (payload) => {
      payload.status = 'failed';
    });
    expect(body.message?.status).toBe('failed');
  });
});

describe('conversation details', () => {
  it('maps an AgentBot assignee as a bot agent', () => {
    const body = normalizeFixture('conversation_updated.json', (payload) => {
      const meta = record(payload.meta);
      meta.assignee = { id: 3, name: 'Triage bot', avatar_url: '', type: 'agent_bot' };
      meta.assignee_type = 'AgentBot';
      meta.team = { id: 2, name: 'Billing' };
    });
    expect(body.conversation?.assignee).toEqual({
      externalId: '3',
      name: 'Triage bot',
      email: null,
      phone: null,
      kind: 'bot',
    });
    expect(body.conversation?.team).toEqual({ externalId: '2', name: 'Billing' });
  });

  it.each([
    ['Channel::WebWidget', 'web_widget'],
    ['Channel::Api', 'api'],
    ['Channel::Whatsapp', 'whatsapp'],
    ['Channel::Telegram', 'telegram'],
    ['Channel::FacebookPage', 'facebook'],
    ['Channel::Instagram', 'instagram'],
    ['Channel::Email', 'email'],
    ['Channel::Sms', 'sms'],
    ['Channel::TwilioSms', 'sms'],
    ['Channel::Voice', 'phone'],
    ['Channel::Line', 'unknown'],
    ['Channel::TwitterProfile', 'unknown'],
    ['constructor', 'unknown'],
  ])('maps channel %p to %p', (channelClass, type) => {
    const body = normalizeFixture('conversation_created.json', (payload) => {
      payload.channel = channelClass;
    });
    expect(body.conversation?.channel).toEqual({ type, externalId: '11', name: null });
  });

  it('maps Twilio with a WhatsApp sender to whatsapp', () => {
    const body = normalizeFixture('conversation_created.json', (payload) => {
      payload.channel = 'Channel::TwilioSms';
      record(payload.contact_inbox).source_id = 'whatsapp:+5511987654321';
    });
    expect(body.conversation?.channel?.type).toBe('whatsapp');
  });

  it.each([['pending'], ['snoozed'], ['open']])(
    'a status change to %p is conversation.status_changed',
    (status) => {
      const body = normalizeFixture('conversation_status_changed.json', (payload) => {
        payload.status = status;
      });
      expect(body.type).toBe('conversation.status_changed');
      expect(body.conversation).toMatchObject({ status, endedAt: null });
    },
  );

  it('keeps a conversation whose id holds a line break, verbatim in its key', () => {
    const body = normalizeFixture('conversation_created.json', (payload) => {
      payload.id = '10\n42';
    });
    expect(body.conversation).toMatchObject({
      key: 'chatwoot:src_test:10\n42',
      externalId: '10\n42',
    });
    expect(schemaProblems(body)).toEqual([]);
    expect(body.contact).toEqual(MARIA);
  });

  it('builds the conversation from conversation_id when a message comes without one', () => {
    const body = normalizeFixture('message_created.json', (payload) => {
      delete payload.conversation;
      payload.conversation_id = 1042;
    });
    expect(body.conversation).toMatchObject({
      key: 'chatwoot:src_test:1042',
      status: 'unknown',
      channel: { type: 'unknown', externalId: '11', name: 'Acme Website' },
    });
  });

  it('an unrecognised status is unknown', () => {
    const body = normalizeFixture('conversation_created.json', (payload) => {
      payload.status = 'archived';
    });
    expect(body.conversation?.status).toBe('unknown');
  });

  it('reads changed_attributes in object form, with canonical names and converted times', () => {
    const body = normalizeFixture('conversation_updated.json', (payload) => {
      payload.changed_attributes = {
        label_list: { previous_value: [], current_value: ['billing'] },
        team_id: { previous_value: null, current_value: 2 },
        custom_attributes: { previous_value: {}, current_value: { plan: 'pro' } },
        snoozed_until: { previous_value: null, current_value: '2026-04-17T09:00:00.000Z' },
        waiting_since: { previous_value: 1776348311, current_value: 0 },
        priority: { previous_value: null, current_value: 'high' },
      };
    });
    expect(body.changes).toEqual({
      labels: { previous: [], current: ['billing'] },
      team: { previous: null, current: '2' },
      attributes: { previous: {}, current: { plan: 'pro' } },
      snoozed_until: { previous: null, current: '2026-04-17T09:00:00.000Z' },
      waiting_since: { previous: '2026-04-16T14:05:11.000Z', current: null },
      priority: { previous: null, current: 'high' },
    });
  });

  it('keeps priority, snooze and custom attributes', () => {
    const body = normalizeFixture('conversation_created.json', (payload) => {
      payload.priority = 'urgent';
      payload.snoozed_until = '2026-04-17T09:00:00.000Z';
      payload.custom_attributes = { order_id: 4471 };
    });
    expect(body.conversation?.attributes).toEqual({ order_id: 4471 });
    expect(body.extensions.chatwoot).toMatchObject({
      conversation: { priority: 'urgent', snoozedUntil: '2026-04-17T09:00:00.000Z' },
    });
  });

  it('a contact typing in the widget is the contact actor', () => {
    const body = normalizeFixture('conversation_typing_on.json', (payload) => {
      payload.event = 'conversation_typing_off';
      payload.user = fixture('contact_updated.json');
    });
    expect(body.type).toBe('conversation.typing_stopped');
    expect(body.actor).toEqual(MARIA_ACTOR);
  });
});

describe('contact details', () => {
  it('normalizes the phone to E.164, keeps the avatar and the identifier', () => {
    const body = normalizeFixture('contact_updated.json', (payload) => {
      payload.phone_number = '+55 11 98765-4321';
      payload.thumbnail = 'https://chat.acme.example/avatar.png';
      payload.identifier = 'shop-user-991';
      payload.custom_attributes = { plan: 'pro' };
      record(payload.additional_attributes).description = 'VIP';
    });
    expect(body.contact).toMatchObject({
      phone: '+55 11 98765-4321',
      phoneE164: '+5511987654321',
      avatarUrl: 'https://chat.acme.example/avatar.png',
      userToken: 'shop-user-991',
      attributes: { plan: 'pro' },
      description: 'VIP',
    });
  });

  it('keeps an unreadable phone as sent, without E.164', () => {
    const body = normalizeFixture('contact_updated.json', (payload) => {
      payload.phone_number = '12345';
    });
    expect(body.contact).toMatchObject({ phone: '12345', phoneE164: null });
  });
});

describe('old 2020–2022 payloads (Evolvy/NEXLOO forks of that era)', () => {
  // The shape of Chatwoot's legacy webhook docs: string ids, Rails UTC times, `display_id`,
  // the contact beside an untyped agent sender, no meta/account/contact_inbox/updated_at.
  const legacyMessage = (): JsonRecord => ({
    event: 'message_created',
    id: '57',
    content: 'Hi, how can I help?',
    created_at: '2022-03-03 13:05:57 UTC',
    message_type: 'outgoing',
    content_type: 'text',
    content_attributes: {},
    source_id: '',
    sender: { id: 1, name: 'Agent', email: 'agent@example.com' },
    contact: { id: '9', name: 'Jane' },
    conversation: {
      display_id: '21',
      additional_attributes: {
        referer: 'https://shop.example/',
        initiated_at: 'Thu Mar 03 2022 10:04:00 GMT-0300 (Brasilia Standard Time)',
      },
    },
    account: { id: '1', name: 'Acme' },
  });

  it('maps a legacy outgoing message', () => {
    const body = normalizeOk(legacyMessage());
    expect(schemaProblems(body)).toEqual([]);
    expect(body.type).toBe('message.created');
    expect(body.occurredAt).toBe('2022-03-03T13:05:57.000Z');
    expect(body.conversation).toMatchObject({
      key: 'chatwoot:src_test:21',
      externalId: '21',
      status: 'unknown',
      channel: null,
      assignee: null,
      labels: [],
      startedAt: null,
    });
    expect(body.message).toMatchObject({
      externalId: '57',
      direction: 'outbound',
      sender: { type: 'agent', externalId: '1', name: 'Agent', email: 'agent@example.com' },
    });
    expect(body.contact).toMatchObject({ externalId: '9', name: 'Jane' });
    expect(body.session?.page?.url).toBe('https://shop.example/');
    expect(body.extensions.chatwoot).toMatchObject({
      account: { id: '1', name: 'Acme' },
      conversation: { initiatedAt: '2022-03-03T13:04:00.000Z' },
    });
  });

  it('an incoming legacy message without sender comes from the contact', () => {
    const payload = { ...legacyMessage(), message_type: 'incoming', sender: null };
    const body = normalizeOk(payload);
    expect(schemaProblems(body)).toEqual([]);
    expect(body.message?.direction).toBe('inbound');
    expect(body.actor).toEqual({ type: 'contact', externalId: '9', name: 'Jane', email: null });
  });

  it('maps a 2022 conversation_status_changed without meta, account or updated_at', () => {
    const body = normalizeOk({
      event: 'conversation_status_changed',
      id: 10,
      inbox_id: 1,
      channel: 'Channel::WebWidget',
      status: 'resolved',
      messages: [
        { id: 120, content: 'Get notified by email', message_type: 3, content_type: 'input_email' },
      ],
      timestamp: 1627063520,
    });
    expect(schemaProblems(body)).toEqual([]);
    expect(body.type).toBe('conversation.ended');
    expect(body.occurredAt).toBe('2021-07-23T18:05:20.000Z');
    expect(body.conversation).toMatchObject({
      key: 'chatwoot:src_test:10',
      status: 'resolved',
      channel: { type: 'web_widget', externalId: '1', name: null },
      assignee: null,
      team: null,
      endedAt: '2021-07-23T18:05:20.000Z',
    });
    expect(body.contact).toBeNull();
    expect(body.messages).toMatchObject([
      { externalId: '120', kind: 'template', direction: 'outbound', sender: SYSTEM },
    ]);
    expect(body.extensions.chatwoot).toEqual({ conversation: { inboxId: '1' } });
  });
});

describe('events outside the table', () => {
  it.each([['automation_event.message_created'], ['macro.executed']])(
    '%p is source.unknown with the conversation snapshot mapped',
    (event) => {
      const body = normalizeFixture('conversation_status_changed.json', (payload) => {
        payload.event = event;
      });
      expect(body.type).toBe('source.unknown');
      expect(body.sourceEvent).toBe(event);
      expect(body.conversation?.key).toBe('chatwoot:src_test:1042');
      expect(body.contact).toEqual(MARIA);
      expect(body.actor).toEqual(SYSTEM);
      expect(body.occurredAt).toBe('2026-04-16T14:09:05.118Z');
    },
  );

  it('an unknown message-shaped event keeps the nested conversation', () => {
    const body = normalizeFixture('message_created.json', (payload) => {
      payload.event = 'message_deleted';
    });
    expect(body.type).toBe('source.unknown');
    expect(body.conversation?.key).toBe('chatwoot:src_test:1042');
    expect(body.contact).toEqual(MARIA);
    expect(body.message).toBeNull();
  });

  it('an unknown contact-shaped event keeps the contact', () => {
    const body = normalizeFixture('contact_updated.json', (payload) => {
      payload.event = 'contact_merged';
    });
    expect(body.type).toBe('source.unknown');
    expect(body.contact).toEqual(MARIA);
    expect(body.conversation).toBeNull();
  });

  it('an unknown event with nothing recognisable is still ok', () => {
    const body = normalizeOk({ event: 'account_created', id: 1, name: 'Acme', users: [] });
    expect(schemaProblems(body)).toEqual([]);
    expect(body).toMatchObject({
      type: 'source.unknown',
      occurredAt: null,
      conversation: null,
      contact: null,
      actor: SYSTEM,
      message: null,
      messages: [],
      changes: null,
      session: null,
      extensions: { chatwoot: {} },
    });
  });

  const noEvent = 'payload has no string "event" field';
  itRefusesAsUnprocessable(harness, [
    [{}, noEvent],
    [{ event: null }, noEvent],
    [{ event: 5 }, noEvent],
    [{ event: '' }, noEvent],
    [{ event: '  ' }, noEvent],
    [{ event: {} }, noEvent],
  ]);

  itLeavesThePayloadUntouched(harness, 'message_created.json');
});

// --- The ingest side ------------------------------------------------------------------------

describe('verify, deliveryId and acceptedResponse', () => {
  const secret = '3vQmZ8kT1xYp9cRw5nLb7HsD';
  const rawBody = Buffer.from('{"event":"message_created","id":88125}', 'utf8');
  const timestamp = '1776348423';
  const now = new Date(Number(timestamp) * 1000);
  const signature = chatwootSignature(rawBody, timestamp, secret);

  const source = (
    settings: Partial<ChatwootSettings> = {},
  ): ConfiguredSource<ChatwootSettings> => ({
    id: 'src_test',
    kind: 'chatwoot',
    settings: { ...new ChatwootSettings(), signingSecret: secret, ...settings },
  });

  const request = (headers: InboundRequest['headers']): InboundRequest => ({
    rawBody,
    headers,
    payload: JSON.parse(rawBody.toString('utf8')) as JsonRecord,
  });

  const signedHeaders = (prefix = 'x-chatwoot') => ({
    [`${prefix}-signature`]: signature,
    [`${prefix}-timestamp`]: timestamp,
    [`${prefix}-delivery`]: '7c1e9a4b-2f3d-4b8e-a6c5-1d0f9e8b7a23',
  });

  it('accepts an unsigned request when the source has no secret', () => {
    expect(normalizer.verify(request({}), source({ signingSecret: null }), now)).toEqual({
      ok: true,
    });
  });

  it('accepts a correctly signed request, and names its signature and time', () => {
    expect(normalizer.verify(request(signedHeaders()), source(), now)).toEqual({
      ok: true,
      signed: { signature, signedAt: new Date(Number(timestamp) * 1000) },
    });
  });

  it('requires the signature headers when the source has a secret', () => {
    expect(normalizer.verify(request({}), source(), now)).toEqual({
      ok: false,
      reason: 'missing signature header',
    });
    const { 'x-chatwoot-timestamp': _timestamp, ...withoutTimestamp } = signedHeaders();
    expect(normalizer.verify(request(withoutTimestamp), source(), now)).toEqual({
      ok: false,
      reason: 'missing timestamp header',
    });
  });

  it('rejects a wrong secret and a stale delivery', () => {
    expect(
      normalizer.verify(request(signedHeaders()), source({ signingSecret: 'x' }), now),
    ).toEqual({
      ok: false,
      reason: 'signature mismatch',
    });
    const later = new Date(now.getTime() + 301_000);
    expect(normalizer.verify(request(signedHeaders()), source(), later)).toEqual({
      ok: false,
      reason: 'timestamp outside tolerance',
    });
  });

  it('reads the headers of a fork prefix, and only those', () => {
    const konversio = source({ signatureHeaderPrefix: 'X-Konversio' });
    expect(normalizer.verify(request(signedHeaders('x-konversio')), konversio, now)).toMatchObject({
      ok: true,
    });
    expect(normalizer.verify(request(signedHeaders()), konversio, now)).toEqual({
      ok: false,
      reason: 'missing signature header',
    });
  });

  it('takes the first value of a repeated header', () => {
    const headers = { ...signedHeaders(), 'x-chatwoot-signature': [signature, 'sha256=00'] };
    expect(normalizer.verify(request(headers), source(), now)).toMatchObject({ ok: true });
  });

  it('reads the delivery id under the configured prefix', () => {
    expect(normalizer.deliveryId(request(signedHeaders()), source())).toBe(
      '7c1e9a4b-2f3d-4b8e-a6c5-1d0f9e8b7a23',
    );
    const konversio = source({ signatureHeaderPrefix: 'X-Konversio' });
    expect(normalizer.deliveryId(request(signedHeaders('x-konversio')), konversio)).toBe(
      '7c1e9a4b-2f3d-4b8e-a6c5-1d0f9e8b7a23',
    );
    expect(normalizer.deliveryId(request(signedHeaders()), konversio)).toBeNull();
    expect(normalizer.deliveryId(request({ 'x-chatwoot-delivery': '' }), source())).toBeNull();
  });

  it('answers accepted with the event id', () => {
    expect(normalizer.kind).toBe('chatwoot');
    expect(normalizer.acceptedResponse('evt_01')).toEqual({
      status: 'accepted',
      eventId: 'evt_01',
    });
  });
});
