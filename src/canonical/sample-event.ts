import { buildCanonicalEvent } from './build-event';
import { CanonicalEvent, CanonicalEventType } from './canonical-event';

/**
 * The event a subscription's test send delivers: a website visitor's first message, typed as
 * asked, so filters, transforms and receivers see the shape real events have.
 */
export function buildSampleEvent(
  id: string,
  type: string,
  at: Date = new Date(),
): { canonical: CanonicalEvent; rawBody: string } {
  const now = at.toISOString();
  const canonical = buildCanonicalEvent(
    {
      type: type as CanonicalEventType,
      occurredAt: now,
      sourceEvent: 'router_test',
      conversation: {
        key: 'test:src_test:1001',
        externalId: '1001',
        status: 'open',
        channel: { type: 'web_widget', externalId: 'widget-1', name: 'Website' },
        team: null,
        assignee: null,
        agents: [],
        labels: ['test'],
        rating: null,
        startedAt: now,
        endedAt: null,
        attributes: {},
      },
      contact: {
        externalId: 'contact-1',
        name: 'Maria Test',
        email: 'maria@example.com',
        phone: '+55 11 91234-5678',
        phoneE164: '+5511912345678',
        description: null,
        avatarUrl: null,
        attributes: {},
        userToken: null,
        chatsCount: 1,
      },
      actor: {
        type: 'contact',
        externalId: 'contact-1',
        name: 'Maria Test',
        email: 'maria@example.com',
      },
      message: {
        externalId: 'message-1',
        direction: 'inbound',
        kind: 'text',
        text: 'Hello! This is a test event from the webhook router.',
        attachments: [],
        sender: {
          type: 'contact',
          externalId: 'contact-1',
          name: 'Maria Test',
          email: 'maria@example.com',
        },
        createdAt: now,
        private: false,
        deleted: false,
        status: null,
      },
      messages: [],
      changes: null,
      session: null,
      extensions: {},
    },
    { id, receivedAt: now, source: { kind: 'test', id: 'src_test', deliveryId: null } },
  );
  const rawBody = JSON.stringify({ event: 'router_test', id, type, created_at: now });
  return { canonical, rawBody };
}
