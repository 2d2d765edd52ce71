import {
  itCoversEveryFixture,
  itIdentifiesEachFixture,
  itLeavesThePayloadUntouched,
  itReadsNoEventNameFromThePrototype,
  itRefusesAsUnprocessable,
  normalizerHarness,
} from '../testing/normalizer-harness';
import { Test } from '@nestjs/testing';
import { Agent, CanonicalEventBody, Session } from '../../canonical/canonical-event';
import { JsonRecord } from '../../canonical/coerce';
import { InboundRequest, SourceNormalizer } from '../source-normalizer';
import { ConfiguredSource } from '../source-settings';
import { JivoNormalizer } from './jivo.normalizer';
import { parseUtmString } from './jivo.readers';

const PAYLOAD_FIXTURES = [
  'call_event.en.json',
  'call_event.json',
  'chat_accepted.json',
  'chat_accepted.utm_keyword.json',
  'chat_assigned.json',
  'chat_finished.json',
  'chat_finished.transferred.json',
  'chat_updated.json',
  'client_attribute_updated.json',
  'client_updated.json',
  'offline_message.json',
];

const normalizer = new JivoNormalizer();
const harness = normalizerHarness(normalizer);
const { normalizeOk, schemaProblems, fixture, variant } = harness;

function record(value: unknown): JsonRecord {
  return value as JsonRecord;
}

function humanAgent(
  externalId: string,
  name: string,
  email: string,
  phone: string | null = '+14083682346',
): Agent {
  return { externalId, name, email, phone, kind: 'human' };
}

const THOMAS_2016 = humanAgent('2016', 'Thomas Anderson', 'agent@jivosite.com');
const THOMAS_2016_ACTOR = {
  type: 'agent',
  externalId: '2016',
  name: 'Thomas Anderson',
  email: 'agent@jivosite.com',
};
const SYSTEM = { type: 'system', externalId: null, name: null, email: null };
const TOPIC = { id: '3', title: 'Topic_1', parentId: '1' };
const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36';

/** Every chat fixture carries the same visit. */
const VISIT: Session = {
  ip: '208.80.152.201',
  userAgent: USER_AGENT,
  language: null,
  referrer: null,
  page: { url: 'http://example.com/', title: 'Page title' },
  geo: {
    country: 'United States',
    countryCode: 'US',
    region: 'California',
    regionCode: 'CA',
    city: 'San Francisco',
    latitude: 37.7898,
    longitude: -122.3942,
    organization: 'Wikimedia Foundation',
  },
  utm: {
    source: 'google',
    medium: 'cpc',
    campaign: 'campaign_name',
    content: 'banner',
    term: '...',
  },
  browser: null,
};

function johnSmith(externalId: string, chatsCount: number) {
  return {
    externalId,
    name: 'John Smith',
    email: 'email@example.com',
    phone: '+14084987855',
    phoneE164: '+14084987855',
    description: 'Description text',
    avatarUrl: null,
    attributes: {},
    userToken: null,
    chatsCount,
  };
}

const JOHN_2198_ACTOR = {
  type: 'contact',
  externalId: '2198',
  name: 'John Smith',
  email: 'email@example.com',
};

function channel(widgetId: string) {
  return { type: 'web_widget', externalId: widgetId, name: null };
}

itCoversEveryFixture(
  harness,
  (file) => file.endsWith('.json') && !/^(response|bot|crm)_/.test(file),
  PAYLOAD_FIXTURES,
);

// Jivo sends no event time: every event leaves occurredAt to the router.
itIdentifiesEachFixture(harness, [
  { file: 'call_event.en.json', type: 'call.updated', sourceEvent: 'call_event', occurredAt: null },
  { file: 'call_event.json', type: 'call.updated', sourceEvent: 'call_event', occurredAt: null },
  {
    file: 'chat_accepted.json',
    type: 'conversation.accepted',
    sourceEvent: 'chat_accepted',
    occurredAt: null,
  },
  {
    file: 'chat_accepted.utm_keyword.json',
    type: 'conversation.accepted',
    sourceEvent: 'chat_accepted',
    occurredAt: null,
  },
  {
    file: 'chat_assigned.json',
    type: 'contact.linked',
    sourceEvent: 'chat_assigned',
    occurredAt: null,
  },
  {
    file: 'chat_finished.json',
    type: 'conversation.ended',
    sourceEvent: 'chat_finished',
    occurredAt: null,
  },
  {
    file: 'chat_finished.transferred.json',
    type: 'conversation.ended',
    sourceEvent: 'chat_finished',
    occurredAt: null,
  },
  {
    file: 'chat_updated.json',
    type: 'conversation.updated',
    sourceEvent: 'chat_updated',
    occurredAt: null,
  },
  {
    file: 'client_attribute_updated.json',
    type: 'contact.updated',
    sourceEvent: 'client_attribute_updated',
    occurredAt: null,
  },
  {
    file: 'client_updated.json',
    type: 'contact.updated',
    sourceEvent: 'client_updated',
    occurredAt: null,
  },
  {
    file: 'offline_message.json',
    type: 'offline_message.created',
    sourceEvent: 'offline_message',
    occurredAt: null,
  },
]);

describe('chat_accepted.json', () => {
  const event = normalizeOk(fixture('chat_accepted.json'));

  it('maps the chat, with the accepting agent as assignee', () => {
    expect(event.conversation).toEqual({
      key: 'jivo:src_test:7636',
      externalId: '7636',
      status: 'open',
      channel: channel('3948'),
      team: { externalId: '281', name: 'Sales' },
      assignee: THOMAS_2016,
      agents: [THOMAS_2016],
      labels: ['Tag example'],
      rating: null,
      startedAt: null,
      endedAt: null,
      attributes: {},
    });
  });

  it('maps the visitor as the contact', () => {
    expect(event.contact).toEqual(johnSmith('2198', 1));
  });

  it('names the accepting agent as actor', () => {
    expect(event.actor).toEqual(THOMAS_2016_ACTOR);
  });

  it('carries no message, transcript or changes', () => {
    expect(event.message).toBeNull();
    expect(event.messages).toEqual([]);
    expect(event.changes).toBeNull();
  });

  it('maps the visit, preferring utm_json and reading geoip coordinates as numbers', () => {
    expect(event.session).toEqual(VISIT);
  });

  it('keeps the CRM card and the responsible agent in extensions', () => {
    expect(event.extensions).toEqual({
      jivo: {
        organization: { id: '1', name: 'Company name' },
        clientStatus: { id: '4', title: 'contact_later' },
        topic: TOPIC,
        assignedAgent: humanAgent('1', 'Agent', 'agent1@gmail.com', null),
      },
    });
  });
});

describe('chat_accepted.utm_keyword.json (the UTM term named keyword)', () => {
  const event = normalizeOk(fixture('chat_accepted.utm_keyword.json'));
  const keywordUtm = {
    source: 'yandex',
    medium: 'cpc',
    campaign: 'spring_sale',
    content: null,
    term: 'running shoes',
  };

  it('reads utm_json.keyword as session.utm.term', () => {
    expect(event.session?.utm).toEqual(keywordUtm);
  });

  it('reads keyword= in the utm string when there is no utm_json', () => {
    const stringOnly = normalizeOk(
      variant('chat_accepted.utm_keyword.json', (p) => delete record(p.session).utm_json),
    );
    expect(stringOnly.session?.utm).toEqual(keywordUtm);
  });

  it('prefers term when both names are sent', () => {
    const both = normalizeOk(
      variant('chat_accepted.utm_keyword.json', (p) => {
        record(record(p.session).utm_json).term = 'shoes';
      }),
    );
    expect(both.session?.utm?.term).toBe('shoes');
  });
});

describe('chat_updated.json', () => {
  const event = normalizeOk(fixture('chat_updated.json'));

  it("keeps the chat's agent as assignee", () => {
    expect(event.conversation).toEqual({
      key: 'jivo:src_test:7507',
      externalId: '7507',
      status: 'open',
      channel: channel('3948'),
      team: { externalId: '281', name: 'Sales' },
      assignee: THOMAS_2016,
      agents: [THOMAS_2016],
      labels: ['Discount'],
      rating: null,
      startedAt: null,
      endedAt: null,
      attributes: {},
    });
  });

  it('maps contact, actor and session', () => {
    expect(event.contact).toEqual(johnSmith('2198', 1));
    expect(event.actor).toEqual(THOMAS_2016_ACTOR);
    expect(event.session).toEqual(VISIT);
    expect(event.message).toBeNull();
    expect(event.messages).toEqual([]);
    expect(event.changes).toBeNull();
  });

  it('names the contact as actor, and no assignee, when no agent is present', () => {
    const withoutAgent = normalizeOk(variant('chat_updated.json', (p) => delete p.agent));
    expect(withoutAgent.actor).toEqual(JOHN_2198_ACTOR);
    expect(withoutAgent.conversation?.agents).toEqual([]);
    expect(withoutAgent.conversation?.assignee).toBeNull();
  });

  it("never takes the CRM's responsible person (assigned_agent) for the chat's agent", () => {
    const crmOwner = { id: 7, email: 'owner@example.com', name: 'Olivia Owner' };
    const withOwner = normalizeOk(
      variant('chat_updated.json', (p) => (p.assigned_agent = crmOwner)),
    );
    expect(withOwner.conversation?.assignee).toEqual(THOMAS_2016);
    expect(withOwner.conversation?.agents).toEqual([THOMAS_2016]);
    expect(withOwner.extensions.jivo).toMatchObject({
      assignedAgent: humanAgent('7', 'Olivia Owner', 'owner@example.com', null),
    });
  });

  it('keeps organization, client category and topic in extensions', () => {
    expect(event.extensions).toEqual({
      jivo: {
        organization: { id: '2', name: 'Company name' },
        clientStatus: { id: '4', title: 'contact_later' },
        topic: TOPIC,
      },
    });
  });
});

describe('chat_finished.json', () => {
  const event = normalizeOk(fixture('chat_finished.json'));
  const thomas1 = humanAgent('1', 'Thomas Anderson', 'agent@jivosite.com');

  it('maps the chat, its span taken from the transcript', () => {
    expect(event.conversation).toEqual({
      key: 'jivo:src_test:7607',
      externalId: '7607',
      status: 'resolved',
      channel: channel('3948'),
      team: null,
      assignee: thomas1,
      agents: [thomas1],
      labels: [],
      rating: null,
      startedAt: '2022-10-10T10:07:56.000Z',
      endedAt: '2022-10-10T10:08:03.000Z',
      attributes: {},
    });
  });

  it('maps contact and a system actor', () => {
    expect(event.contact).toEqual(johnSmith('2198', 2));
    expect(event.actor).toEqual(SYSTEM);
  });

  it('maps the transcript with directions, senders and times', () => {
    expect(event.message).toBeNull();
    expect(event.messages).toEqual([
      {
        externalId: expect.stringMatching(/^[0-9a-f]{24}$/),
        direction: 'inbound',
        kind: 'text',
        text: '<Message text is not displayed here>',
        attachments: [],
        sender: JOHN_2198_ACTOR,
        createdAt: '2022-10-10T10:07:56.000Z',
        private: false,
        deleted: false,
        status: null,
      },
      {
        externalId: expect.stringMatching(/^[0-9a-f]{24}$/),
        direction: 'outbound',
        kind: 'text',
        text: '<Message text is not displayed here>',
        attachments: [],
        sender: {
          type: 'agent',
          externalId: '1',
          name: 'Thomas Anderson',
          email: 'agent@jivosite.com',
        },
        createdAt: '2022-10-10T10:08:03.000Z',
        private: false,
        deleted: false,
        status: null,
      },
    ]);
  });

  it('derives distinct message ids that are stable across deliveries', () => {
    const ids = event.messages.map((message) => message.externalId);
    expect(new Set(ids).size).toBe(2);
    expect(normalizeOk(fixture('chat_finished.json')).messages.map((m) => m.externalId)).toEqual(
      ids,
    );
    const otherChat = normalizeOk(variant('chat_finished.json', (p) => (p.chat_id = 7608)));
    expect(otherChat.messages.map((m) => m.externalId)).not.toEqual(ids);
  });

  it('maps the session and changes', () => {
    expect(event.session).toEqual(VISIT);
    expect(event.changes).toBeNull();
  });

  it('keeps topic and the blacklist flag in extensions, dropping the empty transcripts', () => {
    expect(event.extensions).toEqual({ jivo: { topic: TOPIC, blacklisted: false } });
  });
});

describe('chat_finished.transferred.json (two agents, a CRM owner)', () => {
  const event = normalizeOk(fixture('chat_finished.transferred.json'));
  const thomas1 = humanAgent('1', 'Thomas Anderson', 'agent@jivosite.com');
  const maria2 = humanAgent('2', 'Maria Lopez', 'maria@jivosite.com', '+14083682347');

  it('takes the last agent who wrote as assignee, both agents as participants', () => {
    expect(event.conversation).toMatchObject({
      key: 'jivo:src_test:7688',
      status: 'resolved',
      assignee: maria2,
      agents: [thomas1, maria2],
      startedAt: '2022-10-10T11:10:00.000Z',
      endedAt: '2022-10-10T11:11:41.000Z',
    });
  });

  it("keeps the CRM's responsible person in extensions only", () => {
    expect(event.extensions).toEqual({
      jivo: {
        topic: TOPIC,
        blacklisted: false,
        assignedAgent: humanAgent('7', 'Olivia Owner', 'owner@example.com', null),
      },
    });
  });

  it('goes by message time, not list order, and skips agent messages without an agent id', () => {
    const reordered = normalizeOk(
      variant('chat_finished.transferred.json', (p) => {
        const messages = record(p.chat).messages as JsonRecord[];
        messages.reverse();
        messages.push({ message: 'note', timestamp: 1665400400, type: 'agent' });
      }),
    );
    expect(reordered.conversation?.assignee).toEqual(maria2);
  });

  it('names an agent missing from agents[] by id, and has none without agent messages', () => {
    const unlisted = normalizeOk(variant('chat_finished.transferred.json', (p) => (p.agents = [])));
    expect(unlisted.conversation?.assignee).toEqual({
      externalId: '2',
      name: null,
      email: null,
      phone: null,
      kind: 'human',
    });
    const silent = normalizeOk(
      variant('chat_finished.transferred.json', (p) => {
        const messages = record(p.chat).messages as JsonRecord[];
        record(p.chat).messages = messages.filter((m) => m.type === 'visitor');
      }),
    );
    expect(silent.conversation?.assignee).toBeNull();
  });
});

describe('one chat, one assignee', () => {
  it('is the same agent from chat_accepted through chat_updated to chat_finished', () => {
    const sameChat = (p: JsonRecord) => {
      p.chat_id = 7636;
      p.assigned_agent = { id: 1, email: 'agent1@gmail.com', name: 'Agent' };
    };
    const accepted = normalizeOk(variant('chat_accepted.json', sameChat));
    const updated = normalizeOk(variant('chat_updated.json', sameChat));
    const finished = normalizeOk(
      variant('chat_finished.json', (p) => {
        sameChat(p);
        p.agents = [fixture('chat_accepted.json').agent];
        (record(p.chat).messages as JsonRecord[])[1].agent_id = 2016;
      }),
    );
    for (const event of [accepted, updated, finished]) {
      expect(event.conversation?.assignee).toEqual(THOMAS_2016);
    }
  });
});

describe('offline_message.json', () => {
  const event = normalizeOk(fixture('offline_message.json'));

  it('keys the conversation on chat_id, status offline', () => {
    expect(event.conversation).toEqual({
      key: 'jivo:src_test:2026',
      externalId: '2026',
      status: 'offline',
      channel: channel('3948'),
      team: null,
      assignee: null,
      agents: [],
      labels: [],
      rating: null,
      startedAt: null,
      endedAt: null,
      attributes: {},
    });
  });

  it('carries the form text as one inbound message from the contact', () => {
    expect(event.message).toEqual({
      externalId: '1665399500726',
      direction: 'inbound',
      kind: 'text',
      text: 'Message text',
      attachments: [],
      sender: JOHN_2198_ACTOR,
      createdAt: null,
      private: false,
      deleted: false,
      status: null,
    });
    expect(event.messages).toEqual([]);
  });

  it('names the contact as actor', () => {
    expect(event.contact).toEqual(johnSmith('2198', 1));
    expect(event.actor).toEqual(JOHN_2198_ACTOR);
  });

  it('maps the session, changes and extensions', () => {
    expect(event.session).toEqual(VISIT);
    expect(event.changes).toBeNull();
    expect(event.extensions).toEqual({ jivo: { topic: TOPIC } });
  });
});

describe('client_updated.json', () => {
  const event = normalizeOk(fixture('client_updated.json'));

  it('has no conversation', () => {
    expect(event.conversation).toBeNull();
  });

  it('keys the contact on client_id and leaves an invalid phone un-normalized', () => {
    expect(event.contact).toEqual({
      externalId: '1217',
      name: 'Thomas',
      email: 'thomas@gmail.com',
      phone: '+458745457845',
      phoneE164: null,
      description: 'Description text',
      avatarUrl: null,
      attributes: {},
      userToken: null,
      chatsCount: 1,
    });
  });

  it('has a system actor and no message, session or changes', () => {
    expect(event.actor).toEqual(SYSTEM);
    expect(event.message).toBeNull();
    expect(event.messages).toEqual([]);
    expect(event.session).toBeNull();
    expect(event.changes).toBeNull();
  });

  it('keeps the card, the responsible agent, tags and widget in extensions', () => {
    expect(event.extensions).toEqual({
      jivo: {
        organization: { id: '1', name: 'Company name' },
        clientStatus: { id: '4', title: 'contact_later' },
        assignedAgent: humanAgent('3', 'Agent3', 'agent3@gmail.com', null),
        widgetId: '12345678',
        tags: [{ id: '17', title: 'Sales' }],
      },
    });
  });
});

describe('client_attribute_updated.json', () => {
  const event = normalizeOk(fixture('client_attribute_updated.json'));

  it('has no conversation', () => {
    expect(event.conversation).toBeNull();
  });

  it('puts the attributes on the contact keyed by client_id', () => {
    expect(event.contact).toEqual({
      externalId: '1217',
      name: null,
      email: null,
      phone: null,
      phoneE164: null,
      description: null,
      avatarUrl: null,
      attributes: {
        some_number_attribute_name: 1234,
        some_string_attribute_name: 'Some string',
      },
      userToken: null,
      chatsCount: null,
    });
  });

  it('has a system actor and nothing else', () => {
    expect(event.actor).toEqual(SYSTEM);
    expect(event.message).toBeNull();
    expect(event.messages).toEqual([]);
    expect(event.session).toBeNull();
    expect(event.changes).toBeNull();
    expect(event.extensions).toEqual({ jivo: { widgetId: '12345678' } });
  });
});

describe('chat_assigned.json', () => {
  const event = normalizeOk(fixture('chat_assigned.json'));

  it('maps the chat with its agent as assignee', () => {
    expect(event.conversation).toEqual({
      key: 'jivo:src_test:7180',
      externalId: '7180',
      status: 'open',
      channel: channel('3948'),
      team: { externalId: '281', name: 'Sales' },
      assignee: THOMAS_2016,
      agents: [THOMAS_2016],
      labels: [],
      rating: null,
      startedAt: null,
      endedAt: null,
      attributes: {},
    });
  });

  it('names the agent as actor and maps contact and session', () => {
    expect(event.actor).toEqual(THOMAS_2016_ACTOR);
    expect(event.contact).toEqual(johnSmith('2198', 1));
    expect(event.session).toEqual(VISIT);
    expect(event.message).toBeNull();
    expect(event.messages).toEqual([]);
    expect(event.changes).toBeNull();
  });

  it('keeps the CRM link in extensions', () => {
    expect(event.extensions).toEqual({
      jivo: { assignTo: 'https://crm.example.com/clients/42' },
    });
  });
});

function describeCallEvent(file: string, extraExtensions: Record<string, unknown>): void {
  describe(file, () => {
    const event = normalizeOk(fixture(file));
    const thomas3599 = humanAgent('3599', 'Thomas Anderson', 'agent@jivosite.com');

    it('maps the chat the call belongs to, its agent as assignee', () => {
      expect(event.conversation).toEqual({
        key: 'jivo:src_test:4398',
        externalId: '4398',
        status: 'unknown',
        channel: channel('2853'),
        team: { externalId: '181', name: 'Sales' },
        assignee: thomas3599,
        agents: [thomas3599],
        labels: [],
        rating: null,
        startedAt: null,
        endedAt: null,
        attributes: {},
      });
    });

    it('names the agent as actor and maps contact and session', () => {
      expect(event.actor).toEqual({
        type: 'agent',
        externalId: '3599',
        name: 'Thomas Anderson',
        email: 'agent@jivosite.com',
      });
      expect(event.contact).toEqual(johnSmith('2746', 8));
      expect(event.session).toEqual(VISIT);
      expect(event.message).toBeNull();
      expect(event.messages).toEqual([]);
      expect(event.changes).toBeNull();
    });

    it('keeps the call in extensions', () => {
      expect(event.extensions).toEqual({
        jivo: {
          ...extraExtensions,
          call: {
            type: 'callback',
            phone: '+14084987855',
            status: 'end',
            reason: null,
            recordUrl: 'http://example.com/record.mp3',
          },
        },
      });
    });
  });
}

describeCallEvent('call_event.json', { topic: TOPIC });
describeCallEvent('call_event.en.json', {});

describe('legacy (2017) payloads', () => {
  const legacySession = {
    geoip: {
      region_code: '48',
      country_code: 'RU',
      country: 'Russia',
      region: 'Moscow',
      city: 'Moscow',
      isp: 'Skartel',
      latitude: '55.7522',
      longitude: '37.6156',
      organization: '',
    },
    utm: null,
    ip_addr: '188.162.0.1',
    user_agent: 'Mozilla/5.0',
  };
  const legacyOffline: JsonRecord = {
    event_name: 'offline_message',
    widget_id: '1234',
    user_token: '3c077929b8_12175',
    offline_message_id: '2614',
    visitor: { name: 'Ivan', email: 'ivan@example.com', phone: '8 916 123-45-67', number: 42 },
    session: legacySession,
    page: { url: 'http://example.ru/contacts' },
    message: 'Call me back',
  };

  it('keys an offline message without chat_id on its own (string) id', () => {
    const event = normalizeOk(legacyOffline);
    expect(event.conversation).toMatchObject({
      key: 'jivo:src_test:offline-2614',
      externalId: 'offline-2614',
      status: 'offline',
      channel: channel('1234'),
    });
    expect(event.message).toMatchObject({ externalId: '2614', text: 'Call me back' });
    expect(schemaProblems(event)).toEqual([]);
  });

  it('reads the user token, and a national phone with the geoip country', () => {
    expect(normalizeOk(legacyOffline).contact).toEqual({
      externalId: '42',
      name: 'Ivan',
      email: 'ivan@example.com',
      phone: '8 916 123-45-67',
      phoneE164: '+79161234567',
      description: null,
      avatarUrl: null,
      attributes: {},
      userToken: '3c077929b8_12175',
      chatsCount: null,
    });
  });

  it('reads a session without utm_json and with a null utm, isp standing in for organization', () => {
    expect(normalizeOk(legacyOffline).session).toEqual({
      ip: '188.162.0.1',
      userAgent: 'Mozilla/5.0',
      language: null,
      referrer: null,
      page: { url: 'http://example.ru/contacts', title: null },
      geo: {
        country: 'Russia',
        countryCode: 'RU',
        region: 'Moscow',
        regionCode: '48',
        city: 'Moscow',
        latitude: 55.7522,
        longitude: 37.6156,
        organization: 'Skartel',
      },
      utm: null,
      browser: null,
    });
  });

  it('parses the pipe-separated utm string when there is no utm_json', () => {
    const event = normalizeOk({
      ...legacyOffline,
      session: { ...legacySession, utm: 'campaign=(direct)|source=(direct)' },
    });
    expect(event.session?.utm).toEqual({
      source: '(direct)',
      medium: null,
      campaign: '(direct)',
      content: null,
      term: null,
    });
  });

  it('derives a stable message id when the offline message has no id at all', () => {
    const bare = { ...legacyOffline, offline_message_id: undefined };
    const event = normalizeOk(bare);
    expect(event.conversation).toBeNull();
    expect(event.message?.externalId).toMatch(/^[0-9a-f]{24}$/);
    expect(normalizeOk(bare).message?.externalId).toBe(event.message?.externalId);
    expect(schemaProblems(event)).toEqual([]);
  });

  it('maps a chat_accepted that predates organization, status, tags, topic and department', () => {
    const event = normalizeOk({
      event_name: 'chat_accepted',
      widget_id: '1234',
      chat_id: 77,
      visitor: { name: null, number: '42', social: null },
      agent: { id: '5', name: 'Olga', email: 'olga@example.com' },
      session: legacySession,
      page: { url: 'http://example.ru/' },
    });
    expect(event.conversation).toMatchObject({
      key: 'jivo:src_test:77',
      team: null,
      labels: [],
      assignee: { externalId: '5', name: 'Olga', email: 'olga@example.com', phone: null },
    });
    expect(event.extensions).toEqual({ jivo: {} });
    expect(schemaProblems(event)).toEqual([]);
  });
});

describe('ids sent as numbers or as strings', () => {
  function retypeIds(payload: JsonRecord, to: (id: unknown) => unknown): JsonRecord {
    const copy = structuredClone(payload);
    const retype = (holder: unknown, key: string) => {
      const target = holder as JsonRecord | null | undefined;
      if (target && target[key] !== undefined && target[key] !== null)
        target[key] = to(target[key]);
    };
    for (const key of ['chat_id', 'widget_id', 'client_id', 'offline_message_id']) {
      retype(copy, key);
    }
    for (const key of ['organization', 'status', 'assigned_agent', 'agent', 'department']) {
      retype(copy[key], 'id');
    }
    retype(copy.visitor, 'number');
    retype(copy.visitor, 'chats_count');
    retype(copy.topic, 'topic_id');
    retype(copy.topic, 'parent_id');
    for (const tag of (copy.tags as unknown[] | undefined) ?? []) retype(tag, 'id');
    for (const agent of (copy.agents as unknown[] | undefined) ?? []) retype(agent, 'id');
    for (const message of (record(copy.chat)?.messages as unknown[] | undefined) ?? []) {
      retype(message, 'agent_id');
      retype(message, 'timestamp');
    }
    retype(record(copy.session)?.geoip, 'latitude');
    retype(record(copy.session)?.geoip, 'longitude');
    return copy;
  }

  it.each(PAYLOAD_FIXTURES)('give the same event for %s', (file) => {
    const original = fixture(file);
    const expected = normalizeOk(original);
    expect(normalizeOk(retypeIds(original, (id) => String(id)))).toEqual(expected);
    expect(normalizeOk(retypeIds(original, (id) => Number(id)))).toEqual(expected);
  });
});

describe('null and absent nested objects', () => {
  const NESTED = ['visitor', 'session', 'page', 'agent', 'department', 'tags', 'organization'];

  it('treat null and absent alike and fall back to empty values', () => {
    const withNulls = variant('chat_accepted.json', (p) => {
      for (const key of NESTED) p[key] = null;
    });
    const withoutKeys = variant('chat_accepted.json', (p) => {
      for (const key of NESTED) delete p[key];
    });
    const event = normalizeOk(withNulls);
    expect(normalizeOk(withoutKeys)).toEqual(event);
    expect(event.contact).toBeNull();
    expect(event.session).toBeNull();
    expect(event.actor).toEqual(SYSTEM);
    expect(event.conversation).toMatchObject({
      team: null,
      assignee: null,
      agents: [],
      labels: [],
    });
    expect(schemaProblems(event)).toEqual([]);
  });

  it('drop an empty geoip and null utm fields but keep the rest of the session', () => {
    const event = normalizeOk(
      variant('chat_updated.json', (p) => {
        p.session = { geoip: {}, utm: null, utm_json: null, ip_addr: '10.0.0.1' };
        p.page = { url: null, title: null };
      }),
    );
    expect(event.session).toEqual({
      ip: '10.0.0.1',
      userAgent: null,
      language: null,
      referrer: null,
      page: null,
      geo: null,
      utm: null,
      browser: null,
    });
  });

  it('read no conversation from a chat event without chat_id', () => {
    const event = normalizeOk(variant('chat_accepted.json', (p) => delete p.chat_id));
    expect(event.conversation).toBeNull();
    expect(event.extensions.jivo).toMatchObject({
      widgetId: '3948',
      department: { id: '281', name: 'Sales' },
      tags: [{ id: '17', title: 'Tag example' }],
    });
    expect(schemaProblems(event)).toEqual([]);
  });

  it('ignore coordinates out of range and country codes that are not ISO', () => {
    const event = normalizeOk(
      variant('chat_updated.json', (p) => {
        const geoip = record(record(p.session).geoip);
        geoip.latitude = '123.4';
        geoip.longitude = 'east';
        geoip.country_code = 'USA';
        record(p.visitor).phone = '(408) 498-7855';
      }),
    );
    expect(event.session?.geo).toMatchObject({ latitude: null, longitude: null });
    expect(event.contact).toMatchObject({ phone: '(408) 498-7855', phoneE164: null });
  });

  it('keep an id with a line break verbatim in the conversation key', () => {
    const event = normalizeOk(variant('chat_updated.json', (p) => (p.chat_id = '75\n07')));
    expect(event.conversation).toMatchObject({ key: 'jivo:src_test:75\n07', externalId: '75\n07' });
    expect(schemaProblems(event)).toEqual([]);
  });
});

describe('transcripts', () => {
  function finished(edit: (chat: JsonRecord, payload: JsonRecord) => void): CanonicalEventBody {
    return normalizeOk(variant('chat_finished.json', (p) => edit(record(p.chat), p)));
  }

  it('map an empty or missing transcript to no messages and no span', () => {
    for (const event of [
      finished((chat) => (chat.messages = [])),
      finished((chat) => delete chat.messages),
      finished((_chat, p) => (p.chat = null)),
    ]) {
      expect(event.messages).toEqual([]);
      expect(event.conversation).toMatchObject({ startedAt: null, endedAt: null });
      expect(schemaProblems(event)).toEqual([]);
    }
  });

  it('map unknown message types to internal system messages', () => {
    const event = finished((chat) => {
      chat.messages = [{ message: 'Chat transferred', timestamp: 1665396480, type: 'system' }];
    });
    expect(event.messages[0]).toMatchObject({
      direction: 'internal',
      kind: 'system',
      text: 'Chat transferred',
      sender: SYSTEM,
    });
  });

  it('name an agent missing from agents[] by id only', () => {
    const event = finished((chat) => {
      chat.messages = [{ message: 'Hi', timestamp: 1665396480, type: 'agent', agent_id: 9 }];
    });
    expect(event.messages[0].sender).toEqual({
      type: 'agent',
      externalId: '9',
      name: null,
      email: null,
    });
  });

  it('skip items that are not messages', () => {
    const event = finished((chat) => {
      const messages = chat.messages as unknown[];
      chat.messages = [messages[0], 'noise', null, messages[1]];
    });
    expect(event.messages.map((message) => message.direction)).toEqual(['inbound', 'outbound']);
    expect(schemaProblems(event)).toEqual([]);
  });

  it('span from the earliest to the latest message whatever the order', () => {
    const event = finished((chat) => {
      chat.messages = [
        { message: 'late', timestamp: 1665396900, type: 'agent', agent_id: 1 },
        { message: 'early', timestamp: '1665396000', type: 'visitor' },
        { message: 'undated', type: 'visitor' },
      ];
    });
    expect(event.conversation).toMatchObject({
      startedAt: '2022-10-10T10:00:00.000Z',
      endedAt: '2022-10-10T10:15:00.000Z',
    });
    expect(event.messages.map((message) => message.text)).toEqual(['late', 'early', 'undated']);
  });

  it.each([
    ['positive', 'positive'],
    ['negative', 'negative'],
    [' Positive ', 'positive'],
    [null, null],
  ])('read rate %p as rating %p', (rate, rating) => {
    expect(finished((chat) => (chat.rate = rate)).conversation?.rating).toBe(rating);
  });

  it('keep an unrecognised rate, the invitation and the plain transcript in extensions', () => {
    const event = finished((chat, p) => {
      chat.rate = 'meh';
      chat.invitation = 'Need help?';
      p.plain_messages = 'John: hi';
    });
    expect(event.conversation?.rating).toBeNull();
    expect(event.extensions.jivo).toMatchObject({
      rate: 'meh',
      invitation: 'Need help?',
      plainMessages: 'John: hi',
    });
  });
});

describe('CRM Webhooks bodies', () => {
  const CRM_FIXTURES = [
    'crm_assigned_agent_to_client.json',
    'crm_assigned_status.json',
    'crm_created_deal.json',
  ];

  itCoversEveryFixture(harness, (file) => file.startsWith('crm_'), CRM_FIXTURES);

  it.each(CRM_FIXTURES)('%s is a source.unknown keeping the payload', (file) => {
    const event = normalizeOk(fixture(file));
    expect(event.type).toBe('source.unknown');
    expect(event.conversation).toBeNull();
    expect(event.extensions.jivo).toMatchObject({ payload: fixture(file) });
    expect(schemaProblems(event)).toEqual([]);
  });

  it('reads the widget in the client and the status by status_id (crm_assigned_status.json)', () => {
    const { payload, ...extension } = normalizeOk(fixture('crm_assigned_status.json')).extensions
      .jivo as JsonRecord;
    expect(payload).toBeDefined();
    expect(extension).toEqual({
      clientStatus: { id: '4', title: 'contact_later' },
      widgetId: '488651',
    });
  });

  it('reads the widget of a task body in its client', () => {
    const task = { event_name: 'created_task', task_id: 9, client: { widget: { widget_id: 77 } } };
    expect(normalizeOk(task).extensions.jivo).toMatchObject({ widgetId: '77' });
  });

  it('reads <object>_id ids of the client card (crm_assigned_agent_to_client.json)', () => {
    const { payload, ...extension } = normalizeOk(fixture('crm_assigned_agent_to_client.json'))
      .extensions.jivo as JsonRecord;
    expect(payload).toBeDefined();
    expect(extension).toEqual({
      organization: { id: '3', name: 'Company' },
      clientStatus: { id: '1', title: 'new' },
      assignedAgent: { externalId: '2', name: null, email: null, phone: null, kind: 'human' },
      widgetId: '488651',
      tags: [],
    });
  });

  it('prefers the Webhooks API names when both are sent', () => {
    const event = normalizeOk({
      event_name: 'x',
      status: { id: 1, status_id: 2, title: 't' },
      assigned_agent: { id: 3, assigned_agent_id: 4 },
      organization: { id: 5, organization_id: 6 },
    });
    expect(event.extensions.jivo).toMatchObject({
      clientStatus: { id: '1' },
      assignedAgent: { externalId: '3' },
      organization: { id: '5' },
    });
  });
});

describe('unknown and malformed events', () => {
  it('map an unknown event_name to source.unknown, keeping the payload', () => {
    const payload = { ...fixture('chat_updated.json'), event_name: 'chat_transferred' };
    const event = normalizeOk(payload);
    expect(event.type).toBe('source.unknown');
    expect(event.sourceEvent).toBe('chat_transferred');
    expect(event.conversation).toMatchObject({ key: 'jivo:src_test:7507', status: 'unknown' });
    expect(event.actor).toEqual(SYSTEM);
    expect(event.extensions.jivo.payload).toEqual(payload);
    expect(schemaProblems(event)).toEqual([]);
  });

  itReadsNoEventNameFromThePrototype(harness, 'event_name', {
    conversation: null,
    contact: null,
    session: null,
  });

  it('map a CRM Webhooks body to source.unknown', () => {
    const event = normalizeOk({ event_name: 'created_deal', widget: { widget_id: 488651 } });
    expect(event.type).toBe('source.unknown');
    expect(event.extensions.jivo).toMatchObject({ widgetId: '488651' });
  });

  itRefusesAsUnprocessable(harness, [
    [{}, /event_name/],
    [{ event_name: 7 }, /event_name/],
    [{ event_name: null, chat_id: 1 }, /event_name/],
    [{ event: 'CLIENT_MESSAGE', chat_id: '2037' }, /Bot API/],
  ]);

  it('keep attributes that are not a map, and a visitor number other than the client id', () => {
    const event = normalizeOk({
      event_name: 'client_attribute_updated',
      client_id: 1217,
      visitor: { number: '2198' },
      attributes: [{ name: 'plan', value: 'gold' }],
    });
    expect(event.contact).toMatchObject({ externalId: '1217', attributes: {} });
    expect(event.extensions.jivo).toEqual({
      visitorNumber: '2198',
      attributes: [{ name: 'plan', value: 'gold' }],
    });
  });

  itLeavesThePayloadUntouched(harness, 'chat_finished.json');
});

describe('phones', () => {
  it('normalize a national number with the visit country and take the call phone as fallback', () => {
    const event = normalizeOk(
      variant('call_event.json', (p) => {
        delete record(p.visitor).phone;
        record(p.call).phone = '(408) 498-7855';
      }),
    );
    expect(event.contact).toMatchObject({ phone: '(408) 498-7855', phoneE164: '+14084987855' });
  });

  it('leave a national number un-normalized when there is no visit country', () => {
    const event = normalizeOk({
      event_name: 'client_updated',
      client_id: 5,
      visitor: { phone: '(408) 498-7855' },
    });
    expect(event.contact).toMatchObject({ phone: '(408) 498-7855', phoneE164: null });
  });
});

describe('parseUtmString', () => {
  it.each([
    ['source=google|medium=cpc', { source: 'google', medium: 'cpc' }],
    ['utm_source=google| utm_term = shoes ', { source: 'google', term: 'shoes' }],
    ['source=a=b|source=c', { source: 'a=b' }],
    ['source=yandex|keyword=running shoes', { source: 'yandex', term: 'running shoes' }],
    ['utm_keyword=old|utm_term=new', { term: 'new' }],
    ['=x|source=|junk|gclid=123', {}],
    [null, {}],
  ])('reads %p', (input, expected) => {
    expect(parseUtmString(input)).toEqual(expected);
  });

  it('fills the fields utm_json lacks from the utm string', () => {
    const event = normalizeOk(
      variant('chat_updated.json', (p) => {
        record(p.session).utm_json = { source: 'bing' };
      }),
    );
    expect(event.session?.utm).toEqual({
      source: 'bing',
      medium: 'cpc',
      campaign: 'campaign_name',
      content: 'banner',
      term: null,
    });
  });
});

describe('verify', () => {
  function request(payload: JsonRecord): InboundRequest {
    return { rawBody: Buffer.from(JSON.stringify(payload)), headers: {}, payload };
  }

  function source(allowedChannelIds: string[]): ConfiguredSource {
    return { id: 'src_test', kind: 'jivo', settings: { allowedChannelIds } };
  }

  const now = new Date('2026-01-01T00:00:00Z');
  const plugin: SourceNormalizer = normalizer;

  it('accepts any widget when the allow-list is empty', () => {
    expect(plugin.verify(request({ event_name: 'x' }), source([]), now)).toEqual({ ok: true });
  });

  it('accepts a listed widget, whatever JSON type carries it', () => {
    expect(plugin.verify(request({ widget_id: '3948' }), source(['3948']), now)).toEqual({
      ok: true,
    });
    expect(plugin.verify(request({ widget_id: 3948 }), source(['1', '3948']), now)).toEqual({
      ok: true,
    });
  });

  it('refuses an unlisted widget', () => {
    expect(plugin.verify(request({ widget_id: '9999' }), source(['3948']), now)).toEqual({
      ok: false,
      reason: 'widget_id "9999" is not allowed on this source',
    });
  });

  it('accepts CRM Webhooks bodies by the widget they name, at the top or in the client', () => {
    for (const file of ['crm_assigned_status.json', 'crm_assigned_agent_to_client.json']) {
      expect(plugin.verify(request(fixture(file)), source(['488651']), now)).toEqual({ ok: true });
      expect(plugin.verify(request(fixture(file)), source(['3948']), now)).toEqual({
        ok: false,
        reason: 'widget_id "488651" is not allowed on this source',
      });
    }
  });

  it('refuses a payload without widget_id when an allow-list is set', () => {
    expect(plugin.verify(request({ event_name: 'x' }), source(['3948']), now)).toEqual({
      ok: false,
      reason: 'widget_id (missing) is not allowed on this source',
    });
  });
});

describe('JivoNormalizer as a Nest provider', () => {
  it('is injectable, has no delivery id and answers {result: ok}', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [JivoNormalizer] }).compile();
    const provided = moduleRef.get(JivoNormalizer);
    expect(provided.kind).toBe('jivo');
    expect(provided.deliveryId()).toBeNull();
    expect(provided.acceptedResponse()).toEqual({ result: 'ok' });
  });
});
