import { Injectable } from '@nestjs/common';
import type { CanonicalEvent } from '../canonical/canonical-event';
import { Settings } from '../config/settings';
import { identityInputOf } from './contact-identity';
import { ContactIdentityEntity } from './contact.entity';
import { ContactsRepository } from './contacts.repository';
import { ConversationEntity } from './conversation.entity';
import { ConversationsRepository } from './conversations.repository';

/** Jivo shows ten custom_data fields at most. */
const EARLIER_CONVERSATIONS = 10;

/** The answer in the enrichment contract (docs/jivo-enrichment.md). */
export interface EnrichmentAnswer {
  contactInfo?: { name?: string; email?: string; phone?: string; description?: string };
  customData?: { title: string; content: string; link?: string }[];
  crmLink?: string;
}

/**
 * The built-in enrichment: what the router already knows of the person behind an event, as
 * the enrichment contract's answer. The event itself is not processed yet (Jivo waits for
 * the reply first), so the person is found by the payload's own identity: the identity on
 * this source, else an identity sharing its email or phone (as CONTACT_JOIN allows).
 */
@Injectable()
export class ContactEnrichment {
  constructor(
    private readonly contacts: ContactsRepository,
    private readonly conversations: ConversationsRepository,
    private readonly settings: Settings,
  ) {}

  async answerFor(event: CanonicalEvent): Promise<EnrichmentAnswer | null> {
    const input = identityInputOf(event);
    if (!input) return null;
    const contactId = await this.contacts.contactOf(input, this.settings.CONTACT_JOIN);
    if (!contactId) return null;
    const [identities, conversations] = await Promise.all([
      this.contacts.identitiesOf(contactId),
      this.conversations.ofContact(contactId, EARLIER_CONVERSATIONS + 1),
    ]);
    const base = this.settings.PUBLIC_BASE_URL ? this.settings.publicBaseUrl : null;
    const earlier = conversations
      .filter((conversation) => conversation.key !== event.conversation?.key)
      .slice(0, EARLIER_CONVERSATIONS);
    const answer: EnrichmentAnswer = {};
    const contactInfo = contactInfoOf(identities);
    if (Object.keys(contactInfo).length > 0) answer.contactInfo = contactInfo;
    if (earlier.length > 0) {
      answer.customData = earlier.map((conversation) => customDataOf(conversation, base));
    }
    if (base) answer.crmLink = `${base}/console/contacts/${contactId}`;
    return answer;
  }
}

type Stamped = Record<string, [string, string] | undefined>;

/** Each field from the identity that set it last (by the source's time), across sources. */
function contactInfoOf(identities: ContactIdentityEntity[]): EnrichmentAnswer['contactInfo'] & {} {
  const info: Record<string, string> = {};
  const newest = (field: 'name' | 'email' | 'phone' | 'description') => {
    let best: { value: string; stamp: string } | null = null;
    for (const identity of identities) {
      const value = field === 'phone' ? (identity.phoneE164 ?? identity.phone) : identity[field];
      if (!value) continue;
      const stamp = (identity.fieldStamps as Stamped)[field]?.join('|') ?? '';
      if (!best || stamp > best.stamp) best = { value, stamp };
    }
    if (best) info[field] = best.value;
  };
  for (const field of ['name', 'email', 'phone', 'description'] as const) newest(field);
  return info;
}

function customDataOf(
  conversation: ConversationEntity,
  base: string | null,
): { title: string; content: string; link?: string } {
  const channel = conversation.channel?.name ?? conversation.channel?.type ?? 'unknown';
  const at = conversation.lastActivityAt ?? conversation.startedAt ?? conversation.createdAt;
  const date = at ? new Date(at).toISOString().slice(0, 10) : '';
  const last = conversation.lastMessage?.text;
  const entry: { title: string; content: string; link?: string } = {
    title: `${conversation.sourceKind} · ${channel} · ${date}`,
    content: last ? `${conversation.status}: ${last}` : conversation.status,
  };
  if (base) entry.link = `${base}/console/conversations/${conversation.id}`;
  return entry;
}
