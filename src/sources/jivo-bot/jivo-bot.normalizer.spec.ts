import {
  itCoversEveryFixture,
  itIdentifiesEachFixture,
  itLeavesThePayloadUntouched,
  itReadsNoEventNameFromThePrototype,
  itRefusesAsUnprocessable,
  normalizerHarness,
} from '../testing/normalizer-harness';
import { Test } from '@nestjs/testing';
import { Actor, Agent, CanonicalEventBody, Contact } from '../../canonical/canonical-event';
import { JsonRecord } from '../../canonical/coerce';
import { InboundRequest, SourceNormalizer } from '../source-normalizer';
import { ConfiguredSource } from '../source-settings';
import { SOURCE_PLUGINS } from '../source-plugins';
import { JivoBotNormalizer } from './jivo-bot.normalizer';

const INBOUND_FIXTURES = [
  'bot_agent_joined.json',
  'bot_agent_unavailable.json',
  'bot_chat_closed.json',
  'bot_client_message.json',
];

const normalizer = new JivoBotNormalizer();
const harness = normalizerHarness(normalizer, 'jivo');
const { normalizeOk, schemaProblems, fixture, variant } = harness;

function client(externalId: string, name: string | null = null): Contact {
  return {
    externalId,
    name,
    email: null,
    phone: null,
    phoneE164: null,
    description: null,
    avatarUrl: null,
    attributes: {},
    userToken: null,
    chatsCount: null,
  };
}

function conversation(overrides: Partial<NonNullable<CanonicalEventBody['conversation']>>) {
  return {
    key: 'jivo-bot:src_test:2037',
    externalId: '2037',
    status: 'unknown',
    channel: null,
    team: null,
    assignee: null,
    agents: [],
    labels: [],
    rating: null,
    startedAt: null,
    endedAt: null,
    attributes: {},
    ...overrides,
  };
}

const SYSTEM: Actor = { type: 'system', externalId: null, name: null, email: null };
const ANONYMOUS_AGENT: Actor = { type: 'agent', externalId: null, name: null, email: null };
const BOT: Actor = { type: 'bot', externalId: null, name: null, email: null };
const JOHN: Actor = { type: 'contact', externalId: '1233', name: 'John Smith', email: null };
const MESSAGE_ID = /^[0-9a-f]{24}$/;

itCoversEveryFixture(
  harness,
  (file) => /^bot_.*\.json$/.test(file) && !file.startsWith('bot_out_'),
  INBOUND_FIXTURES,
);

itIdentifiesEachFixture(harness, [
  {
    file: 'bot_agent_joined.json',
    type: 'conversation.accepted',
    sourceEvent: 'AGENT_JOINED',
    occurredAt: null,
  },
  {
    file: 'bot_agent_unavailable.json',
    type: 'conversation.updated',
    sourceEvent: 'AGENT_UNAVAILABLE',
    occurredAt: null,
  },
  {
    file: 'bot_chat_closed.json',
    type: 'conversation.ended',
    sourceEvent: 'CHAT_CLOSED',
    occurredAt: null,
  },
  {
    file: 'bot_client_message.json',
    type: 'message.created',
    sourceEvent: 'CLIENT_MESSAGE',
    occurredAt: '2022-10-10T15:31:19.000Z',
  },
]);

describe('bot_client_message.json', () => {
  const event = normalizeOk(fixture('bot_client_message.json'));

  it('maps the chat, pending while the bot holds it, on its widget channel', () => {
    expect(event.conversation).toEqual(
      conversation({
        status: 'pending',
        channel: { type: 'web_widget', externalId: '12345678', name: null },
      }),
    );
  });

  it('maps the sender as the contact and the actor', () => {
    expect(event.contact).toEqual(client('1233', 'John Smith'));
    expect(event.actor).toEqual(JOHN);
  });

  it('maps the inbound text message', () => {
    expect(event.message).toEqual({
      externalId: expect.stringMatching(MESSAGE_ID),
      direction: 'inbound',
      kind: 'text',
      text: 'Can you help me?',
      attachments: [],
      sender: JOHN,
      createdAt: '2022-10-10T15:31:19.000Z',
      private: false,
      deleted: false,
      status: null,
    });
  });

  it('carries no transcript, changes or session', () => {
    expect(event.messages).toEqual([]);
    expect(event.changes).toBeNull();
    expect(event.session).toBeNull();
  });

  it('keeps the account, agent availability, sender details and message type in extensions', () => {
    expect(event.extensions).toEqual({
      'jivo-bot': {
        siteId: '123456',
        agentsOnline: true,
        senderUrl: 'https://test.com',
        senderHasContacts: true,
        messageType: 'TEXT',
      },
    });
  });
});

describe('bot_agent_joined.json', () => {
  const event = normalizeOk(fixture('bot_agent_joined.json'));

  it('opens the chat; the body names no agent, so there is no assignee', () => {
    expect(event.conversation).toEqual(conversation({ status: 'open' }));
  });

  it('has an agent as actor, known only by the event', () => {
    expect(event.actor).toEqual(ANONYMOUS_AGENT);
  });

  it('keys the contact on client_id', () => {
    expect(event.contact).toEqual(client('1233'));
  });

  it('carries no message, changes or session', () => {
    expect(event.message).toBeNull();
    expect(event.messages).toEqual([]);
    expect(event.changes).toBeNull();
    expect(event.session).toBeNull();
  });

  it('keeps the account in extensions', () => {
    expect(event.extensions).toEqual({ 'jivo-bot': { siteId: '123456' } });
  });

  it('takes the joining agent as assignee, participant and actor when the body names one', () => {
    const withAgent = normalizeOk(
      variant('bot_agent_joined.json', (p) => {
        p.agent = { id: 2016, name: 'Thomas Anderson', email: 'agent@jivosite.com' };
      }),
    );
    const thomas: Agent = {
      externalId: '2016',
      name: 'Thomas Anderson',
      email: 'agent@jivosite.com',
      phone: null,
      kind: 'human',
    };
    expect(withAgent.conversation).toEqual(
      conversation({ status: 'open', assignee: thomas, agents: [thomas] }),
    );
    expect(withAgent.actor).toEqual({
      type: 'agent',
      externalId: '2016',
      name: 'Thomas Anderson',
      email: 'agent@jivosite.com',
    });
    expect(schemaProblems(withAgent)).toEqual([]);
  });

  it('reads the agent from sender when there is no agent object', () => {
    const withSender = normalizeOk(
      variant('bot_agent_joined.json', (p) => {
        p.sender = { id: '7', name: 'Ann' };
      }),
    );
    expect(withSender.conversation?.assignee).toMatchObject({ externalId: '7', name: 'Ann' });
    expect(withSender.contact).toEqual(client('1233'));
  });
});

describe('bot_agent_unavailable.json', () => {
  const event = normalizeOk(fixture('bot_agent_unavailable.json'));

  it('leaves the chat pending with the bot', () => {
    expect(event.conversation).toEqual(conversation({ status: 'pending' }));
  });

  it('has a system actor and the client as contact', () => {
    expect(event.actor).toEqual(SYSTEM);
    expect(event.contact).toEqual(client('1233'));
  });

  it('carries no message, changes or session, and nothing for extensions', () => {
    expect(event.message).toBeNull();
    expect(event.messages).toEqual([]);
    expect(event.changes).toBeNull();
    expect(event.session).toBeNull();
    expect(event.extensions).toEqual({ 'jivo-bot': {} });
  });
});

describe('bot_chat_closed.json', () => {
  const event = normalizeOk(fixture('bot_chat_closed.json'));

  it('resolves the chat, with no end time to give', () => {
    expect(event.conversation).toEqual(conversation({ status: 'resolved' }));
  });

  it('has a system actor and the client as contact', () => {
    expect(event.actor).toEqual(SYSTEM);
    expect(event.contact).toEqual(client('1233'));
  });

  it('carries no message, changes or session', () => {
    expect(event.message).toBeNull();
    expect(event.messages).toEqual([]);
    expect(event.changes).toBeNull();
    expect(event.session).toBeNull();
  });

  it('keeps the account in extensions', () => {
    expect(event.extensions).toEqual({ 'jivo-bot': { siteId: '123456' } });
  });

  it('ends the chat at a top-level timestamp when one is sent', () => {
    const timed = normalizeOk(variant('bot_chat_closed.json', (p) => (p.timestamp = 1665416000)));
    expect(timed.occurredAt).toBe('2022-10-10T15:33:20.000Z');
    expect(timed.conversation?.endedAt).toBe('2022-10-10T15:33:20.000Z');
  });
});

describe('ids sent as numbers or as strings', () => {
  it('become the same strings', () => {
    const asNumbers = normalizeOk(
      variant('bot_client_message.json', (p) => {
        Object.assign(p, { id: 42, site_id: 123456, client_id: 1233, chat_id: 2037 });
        p.channel = { id: 12345678, type: 'widget' };
      }),
    );
    const asStrings = normalizeOk(fixture('bot_client_message.json'));
    expect(asNumbers.conversation).toEqual(asStrings.conversation);
    expect(asNumbers.contact).toEqual(asStrings.contact);
    expect(asNumbers.extensions['jivo-bot']).toMatchObject({ siteId: '123456' });
    expect(normalizer.deliveryId(request({ id: 42 }))).toBe('42');
  });

  it('key the contact on sender.id when client_id is missing, without repeating it', () => {
    const event = normalizeOk(variant('bot_client_message.json', (p) => delete p.client_id));
    expect(event.contact?.externalId).toBe('1233');
    expect(event.extensions['jivo-bot']).not.toHaveProperty('senderId');
  });

  it('keep a sender.id that differs from client_id', () => {
    const event = normalizeOk(
      variant('bot_client_message.json', (p) => ((p.sender as JsonRecord).id = 99)),
    );
    expect(event.contact?.externalId).toBe('1233');
    expect(event.extensions['jivo-bot']).toMatchObject({ senderId: '99' });
  });

  it('give no conversation without a chat id', () => {
    for (const chatId of ['', '   ', { id: 1 }, true]) {
      const event = normalizeOk({ event: 'CHAT_CLOSED', chat_id: chatId });
      expect(event.conversation).toBeNull();
      expect(schemaProblems(event)).toEqual([]);
    }
  });

  it('keep odd chat ids verbatim in the conversation key', () => {
    for (const chatId of ['20\n37', 'a\u0000b', 'x'.repeat(257)]) {
      const event = normalizeOk({ event: 'CHAT_CLOSED', chat_id: chatId });
      expect(event.conversation?.key).toBe(`jivo-bot:src_test:${chatId}`);
      expect(schemaProblems(event)).toEqual([]);
    }
  });
});

describe('messages', () => {
  function clientMessage(message: unknown): CanonicalEventBody {
    return normalizeOk(variant('bot_client_message.json', (p) => (p.message = message)));
  }

  it('keep message.created with no message when the body has none', () => {
    for (const message of [undefined, null, 7, ['x']]) {
      const event = clientMessage(message);
      expect(event.type).toBe('message.created');
      expect(event.message).toBeNull();
      expect(event.occurredAt).toBeNull();
      expect(schemaProblems(event)).toEqual([]);
    }
  });

  it('keep a message body of the wrong type as unmapped', () => {
    expect(clientMessage(7).extensions['jivo-bot']).toMatchObject({ unmapped: { message: 7 } });
  });

  it('read a bare string as the text', () => {
    expect(clientMessage('hello').message).toMatchObject({ kind: 'text', text: 'hello' });
  });

  it('read millisecond timestamps', () => {
    const event = clientMessage({ type: 'TEXT', text: 'hi', timestamp: 1665415879123 });
    expect(event.occurredAt).toBe('2022-10-10T15:31:19.123Z');
    expect(event.message?.createdAt).toBe('2022-10-10T15:31:19.123Z');
  });

  it('derive a stable id that differs between events', () => {
    const first = clientMessage({ type: 'TEXT', text: 'hi', timestamp: 1665415879 });
    const again = clientMessage({ type: 'TEXT', text: 'hi', timestamp: 1665415879 });
    const other = normalizeOk(
      variant('bot_client_message.json', (p) => {
        p.id = 'another-event';
        p.message = { type: 'TEXT', text: 'hi', timestamp: 1665415879 };
      }),
    );
    expect(first.message?.externalId).toBe(again.message?.externalId);
    expect(first.message?.externalId).not.toBe(other.message?.externalId);
  });

  it('use the message id when one is sent', () => {
    expect(clientMessage({ id: 501, text: 'hi' }).message?.externalId).toBe('501');
  });

  it('map MARKDOWN to text and keep the type', () => {
    const event = clientMessage({ type: 'MARKDOWN', text: '*hi*' });
    expect(event.message).toMatchObject({ kind: 'text', text: '*hi*' });
    expect(event.extensions['jivo-bot']).toMatchObject({ messageType: 'MARKDOWN' });
  });

  it('keep the pressed button id', () => {
    const event = clientMessage({ type: 'TEXT', text: 'Option 1', button_id: 1 });
    expect(event.message).toMatchObject({ kind: 'text', text: 'Option 1' });
    expect(event.extensions['jivo-bot']).toMatchObject({ buttonId: '1' });
  });

  it('map media types to one attachment', () => {
    const event = clientMessage({
      type: 'photo',
      text: 'caption',
      file: 'https://files.example/p.jpg',
      file_name: 'p.jpg',
      mime_type: 'image/jpeg',
      file_size: 2048,
    });
    expect(event.message).toMatchObject({
      kind: 'attachment',
      text: 'caption',
      attachments: [
        {
          type: 'image',
          url: 'https://files.example/p.jpg',
          name: 'p.jpg',
          mimeType: 'image/jpeg',
          size: 2048,
        },
      ],
    });
    expect(event.extensions['jivo-bot']).not.toHaveProperty('unmapped');
    expect(schemaProblems(event)).toEqual([]);
  });

  it('keep file fields of a non-media message as unmapped', () => {
    const event = clientMessage({ type: 'TEXT', text: 'hi', file: 'https://files.example/x' });
    expect(event.message?.attachments).toEqual([]);
    expect(event.extensions['jivo-bot']).toMatchObject({
      unmapped: { 'message.file': 'https://files.example/x' },
    });
  });

  it('map an unknown message type to text and keep the type', () => {
    const event = clientMessage({ type: 'RATING', text: '5' });
    expect(event.message).toMatchObject({ kind: 'text', text: '5', attachments: [] });
    expect(event.extensions['jivo-bot']).toMatchObject({ messageType: 'RATING' });
  });
});

describe('other documented events', () => {
  it('map AGENT_MESSAGE to an outbound message from the agent', () => {
    const event = normalizeOk({
      id: 'e1',
      event: 'AGENT_MESSAGE',
      client_id: '1233',
      chat_id: '2037',
      sender: { id: 2016, name: 'Thomas' },
      message: { type: 'TEXT', text: 'Hello, I am here', timestamp: 1665415900 },
    });
    const thomas = { type: 'agent', externalId: '2016', name: 'Thomas', email: null };
    expect(event.type).toBe('message.created');
    expect(event.actor).toEqual(thomas);
    expect(event.contact).toEqual(client('1233'));
    expect(event.conversation).toMatchObject({ status: 'open', assignee: null });
    expect(event.conversation?.agents).toEqual([
      { externalId: '2016', name: 'Thomas', email: null, phone: null, kind: 'human' },
    ]);
    expect(event.message).toMatchObject({
      direction: 'outbound',
      kind: 'text',
      text: 'Hello, I am here',
      sender: thomas,
    });
    expect(schemaProblems(event)).toEqual([]);
  });

  it('map a relayed BOT_MESSAGE with buttons to an outbound input from the bot', () => {
    const event = normalizeOk({
      event: 'BOT_MESSAGE',
      client_id: '1233',
      chat_id: '2037',
      message: {
        type: 'BUTTONS',
        title: 'Which one?',
        text: 'Pick one',
        force_reply: false,
        buttons: [
          { text: 'First', id: '1' },
          { text: 'Second', id: 2 },
        ],
        timestamp: 1665415880,
      },
    });
    expect(event.type).toBe('message.created');
    expect(event.actor).toEqual(BOT);
    expect(event.conversation?.status).toBe('pending');
    expect(event.message).toMatchObject({
      direction: 'outbound',
      kind: 'input',
      text: 'Pick one',
      sender: BOT,
    });
    expect(event.extensions['jivo-bot']).toEqual({
      messageType: 'BUTTONS',
      title: 'Which one?',
      buttons: [
        { id: '1', text: 'First' },
        { id: '2', text: 'Second' },
      ],
      forceReply: false,
    });
    expect(schemaProblems(event)).toEqual([]);
  });

  it('map a relayed INVITE_AGENT to a pending conversation.updated by the bot', () => {
    const event = normalizeOk({ event: 'INVITE_AGENT', client_id: '1233', chat_id: '2037' });
    expect(event.type).toBe('conversation.updated');
    expect(event.actor).toEqual(BOT);
    expect(event.conversation).toEqual(conversation({ status: 'pending' }));
  });

  it('map a relayed CLIENT_INFO to contact.updated, keeping its undocumented fields', () => {
    const event = normalizeOk({
      event: 'CLIENT_INFO',
      client_id: '1233',
      chat_id: '2037',
      phone: '+14084987855',
    });
    expect(event.type).toBe('contact.updated');
    expect(event.contact).toEqual(client('1233'));
    expect(event.extensions['jivo-bot']).toEqual({ unmapped: { phone: '+14084987855' } });
  });

  it('read the event name whatever its case, keeping it verbatim', () => {
    const event = normalizeOk({ ...fixture('bot_chat_closed.json'), event: ' chat_closed' });
    expect(event.type).toBe('conversation.ended');
    expect(event.sourceEvent).toBe(' chat_closed');
  });

  it('map other channel types and keep spellings it does not know', () => {
    const telegram = normalizeOk({
      event: 'CHAT_CLOSED',
      chat_id: 1,
      channel: { type: 'Telegram' },
    });
    expect(telegram.conversation?.channel).toEqual({
      type: 'telegram',
      externalId: null,
      name: null,
    });
    const other = normalizeOk({ event: 'CHAT_CLOSED', chat_id: 1, channel: { id: 5, type: 'ok' } });
    expect(other.conversation?.channel).toEqual({ type: 'unknown', externalId: '5', name: null });
    expect(other.extensions['jivo-bot']).toEqual({ channelType: 'ok' });
  });
});

describe('unknown and malformed events', () => {
  it('map an unknown event to source.unknown, keeping the payload', () => {
    const payload = { ...fixture('bot_client_message.json'), event: 'INVITE_AGENT_ACCEPTED' };
    const event = normalizeOk(payload);
    expect(event.type).toBe('source.unknown');
    expect(event.sourceEvent).toBe('INVITE_AGENT_ACCEPTED');
    expect(event.conversation).toMatchObject({ key: 'jivo-bot:src_test:2037', status: 'unknown' });
    expect(event.contact).toEqual(client('1233'));
    expect(event.actor).toEqual(SYSTEM);
    expect(event.message).toBeNull();
    expect(event.extensions['jivo-bot'].payload).toEqual(payload);
    expect(event.extensions['jivo-bot']).not.toHaveProperty('unmapped');
    expect(schemaProblems(event)).toEqual([]);
  });

  itReadsNoEventNameFromThePrototype(harness, 'event', {
    conversation: null,
    contact: null,
    message: null,
  });

  itRefusesAsUnprocessable(harness, [
    [{}, /event is missing/],
    [{ event: 7, chat_id: '2037' }, /event is missing/],
    [{ event: null }, /event is missing/],
    [{ event: ['CLIENT_MESSAGE'] }, /event is missing/],
    [{ event_name: 'chat_accepted', chat_id: 7636 }, /Webhooks API/],
  ]);

  it('keep top-level and nested fields it does not read as unmapped', () => {
    const event = normalizeOk(
      variant('bot_client_message.json', (p) => {
        p.visitor_token = 'abc';
        p.agents_online = 'maybe';
        (p.sender as JsonRecord).avatar = 'https://a.example/j.png';
        (p.channel as JsonRecord).group = 3;
      }),
    );
    expect(event.extensions['jivo-bot']).toMatchObject({
      unmapped: {
        visitor_token: 'abc',
        agents_online: 'maybe',
        'sender.avatar': 'https://a.example/j.png',
        'channel.group': 3,
      },
    });
    expect(event.extensions['jivo-bot']).not.toHaveProperty('agentsOnline');
  });

  it('keep what an event does not read as unmapped: a message, an agent, sender details', () => {
    const event = normalizeOk(
      variant('bot_chat_closed.json', (p) => {
        p.message = { type: 'TEXT', text: 'bye' };
        p.agent = { id: 3 };
        p.sender = { id: 1233, name: 'John Smith', url: 'https://test.com' };
      }),
    );
    expect(event.message).toBeNull();
    expect(event.contact).toEqual(client('1233'));
    expect(event.extensions['jivo-bot']).toEqual({
      siteId: '123456',
      senderUrl: 'https://test.com',
      unmapped: {
        message: { type: 'TEXT', text: 'bye' },
        agent: { id: 3 },
        'sender.name': 'John Smith',
      },
    });
  });

  it('read a phone and email on the sender', () => {
    const event = normalizeOk(
      variant('bot_client_message.json', (p) => {
        Object.assign(p.sender as JsonRecord, { phone: '+1 408 498 7855', email: 'j@example.com' });
      }),
    );
    expect(event.contact).toMatchObject({
      phone: '+1 408 498 7855',
      phoneE164: '+14084987855',
      email: 'j@example.com',
    });
  });

  itLeavesThePayloadUntouched(harness, 'bot_client_message.json');
});

function request(payload: JsonRecord): InboundRequest {
  return { rawBody: Buffer.from(JSON.stringify(payload)), headers: {}, payload };
}

describe('deliveryId', () => {
  it('is the event id, as a string', () => {
    expect(normalizer.deliveryId(request(fixture('bot_client_message.json')))).toBe(
      '9661ab9c-48b0-11ed-a3d6-859398ff9bd9',
    );
    expect(normalizer.deliveryId(request({ id: 7 }))).toBe('7');
  });

  it('keeps odd ids verbatim: storage and dedupe cope with them', () => {
    expect(normalizer.deliveryId(request({ id: 'a\u0000b' }))).toBe('a\u0000b');
  });

  it('is null without an id', () => {
    for (const id of [undefined, null, '', ' ', {}, ['x']]) {
      expect(normalizer.deliveryId(request({ id }))).toBeNull();
    }
    expect(normalizer.deliveryId(request(fixture('bot_agent_unavailable.json')))).toBeNull();
  });
});

describe('verify', () => {
  function source(allowedChannelIds: string[]): ConfiguredSource {
    return { id: 'src_test', kind: 'jivo-bot', settings: { allowedChannelIds } };
  }

  const plugin: SourceNormalizer = normalizer;
  const now = new Date('2026-01-01T00:00:00Z');
  const message = fixture('bot_client_message.json');

  it('accepts anything when the allow-list is empty', () => {
    expect(plugin.verify(request({ event: 'X' }), source([]), now)).toEqual({ ok: true });
  });

  it('accepts a listed account (site_id) or channel, whatever JSON type carries it', () => {
    expect(plugin.verify(request(message), source(['123456']), now)).toEqual({ ok: true });
    expect(plugin.verify(request(message), source([' 12345678 ']), now)).toEqual({ ok: true });
    expect(plugin.verify(request({ site_id: 123456 }), source(['123456']), now)).toEqual({
      ok: true,
    });
  });

  it('refuses an unlisted account and channel', () => {
    expect(plugin.verify(request(message), source(['999']), now)).toEqual({
      ok: false,
      reason: 'neither site_id "123456" nor channel.id "12345678" is allowed on this source',
    });
  });

  it('refuses a payload without either id when an allow-list is set', () => {
    expect(
      plugin.verify(request(fixture('bot_agent_unavailable.json')), source(['123456']), now),
    ).toEqual({
      ok: false,
      reason: 'neither site_id (missing) nor channel.id (missing) is allowed on this source',
    });
  });
});

describe('JivoBotNormalizer as a plug-in', () => {
  it('is injectable, kind jivo-bot, and answers with the event id', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [JivoBotNormalizer] }).compile();
    const provided = moduleRef.get(JivoBotNormalizer);
    expect(provided.kind).toBe('jivo-bot');
    expect(provided.acceptedResponse('evt_1')).toEqual({ status: 'accepted', eventId: 'evt_1' });
  });

  it('is registered in SOURCE_PLUGINS', () => {
    expect(SOURCE_PLUGINS).toContain(JivoBotNormalizer);
  });
});
