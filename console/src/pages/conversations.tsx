import { useEffect, useState } from 'react';
import { api, query } from '../api';
import { Link } from '../router';
import { ChoiceField, FilterForm, PagedList, useFilters } from '../lists';
import { Empty, ErrorBox, Field, Loading, Status, Time, useApi, usePages } from '../ui';
import { useSources } from './events';

/** GET /api/conversations (docs/conversations.md). */
export interface Conversation {
  id: string;
  key: string;
  sourceId: string;
  sourceKind: string;
  externalId: string;
  contactId: string | null;
  status: string;
  channel: { type: string; externalId: string | null; name: string | null } | null;
  team: { name: string | null } | null;
  assignee: { name: string | null; email: string | null } | null;
  labels: string[];
  startedAt: string | null;
  endedAt: string | null;
  lastActivityAt: string | null;
  messageCounts: { inbound: number; outbound: number; internal: number };
  lastMessage: { text: string | null; senderName: string | null; direction: string | null } | null;
}

interface Message {
  externalId?: string | null;
  direction?: string | null;
  kind?: string | null;
  text?: string | null;
  sender?: { type?: string | null; name?: string | null } | null;
  attachments?: { url?: string | null; name?: string | null; type?: string | null }[];
  createdAt?: string | null;
  private?: boolean;
  deleted?: boolean;
}

interface TimelineEntry {
  eventId: string;
  type: string;
  sourceEvent: string | null;
  occurredAt: string;
  message: Message | null;
  messages?: Message[];
  changes: unknown;
}

interface ConversationDetail extends Conversation {
  timeline: TimelineEntry[];
  timelineNextCursor: string | null;
  eventsPurgedBefore: string | null;
}

const FILTERS = ['q', 'sourceId', 'status', 'channel', 'label', 'contactId'] as const;
const STATUSES = ['open', 'pending', 'snoozed', 'resolved', 'offline', 'unknown'];

/** Contact names for the ids shown, one GET each (a page holds at most 50). */
export function useContactNames(ids: (string | null)[]): Map<string, string> {
  const [names, setNames] = useState(new Map<string, string>());
  const wanted = [...new Set(ids.filter((id): id is string => !!id))].sort().join(',');
  useEffect(() => {
    let live = true;
    const missing = wanted ? wanted.split(',') : [];
    void Promise.all(
      missing.map((id) =>
        api<{ id: string; name: string | null; email: string | null }>(
          'GET',
          `/api/contacts/${id}`,
        ).then(
          (contact) => [id, contact.name ?? contact.email ?? id] as const,
          () => [id, id] as const,
        ),
      ),
    ).then((pairs) => live && setNames(new Map(pairs)));
    return () => {
      live = false;
    };
  }, [wanted]);
  return names;
}

function channelOf(conversation: Conversation): string {
  const channel = conversation.channel;
  return [conversation.sourceKind, channel?.name ?? channel?.type].filter(Boolean).join(' · ');
}

export function ConversationTable({
  conversations,
  names,
}: {
  conversations: Conversation[];
  names: Map<string, string>;
}) {
  return (
    <table>
      <thead>
        <tr>
          <th>Last activity</th>
          <th>Contact</th>
          <th>Channel</th>
          <th>Status</th>
          <th>Assignee</th>
          <th className="number">Messages</th>
          <th>Last message</th>
        </tr>
      </thead>
      <tbody>
        {conversations.map((conversation) => (
          <tr key={conversation.id}>
            <td>
              <Link to={`/conversations/${conversation.id}`}>
                <Time value={conversation.lastActivityAt ?? conversation.startedAt} />
              </Link>
            </td>
            <td>
              {conversation.contactId ? (
                <Link to={`/contacts/${conversation.contactId}`}>
                  {names.get(conversation.contactId) ?? conversation.contactId}
                </Link>
              ) : (
                '—'
              )}
            </td>
            <td>{channelOf(conversation)}</td>
            <td>
              <Status value={conversation.status} />
            </td>
            <td>{conversation.assignee?.name ?? '—'}</td>
            <td className="number">
              {conversation.messageCounts.inbound + conversation.messageCounts.outbound}
            </td>
            <td className="clip">
              {conversation.lastMessage
                ? `${conversation.lastMessage.senderName ? `${conversation.lastMessage.senderName}: ` : ''}${conversation.lastMessage.text ?? ''}`
                : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ConversationsPage({ search }: { search: URLSearchParams }) {
  const filters = useFilters('/conversations', FILTERS, search);
  const { form, set } = filters;
  const sources = useSources();
  const pages = usePages<Conversation>(`/api/conversations${query(filters.applied)}`);
  const names = useContactNames(pages.items.map((conversation) => conversation.contactId));
  return (
    <section>
      <h1>Conversations</h1>
      <FilterForm label="Filter conversations" filters={filters}>
        <Field label="Contact name, email or phone">
          {(props) => <input {...props} type="search" value={form.q} onChange={set('q')} />}
        </Field>
        <ChoiceField
          label="Source"
          value={form.sourceId}
          onChange={set('sourceId')}
          any="Any source"
          choices={sources.map((source) => ({ value: source.id, label: source.name }))}
        />
        <ChoiceField
          label="Status"
          value={form.status}
          onChange={set('status')}
          any="Any status"
          choices={STATUSES}
        />
        <Field label="Channel type">
          {(props) => (
            <input
              {...props}
              value={form.channel}
              onChange={set('channel')}
              placeholder="whatsapp"
            />
          )}
        </Field>
        <Field label="Label">
          {(props) => <input {...props} value={form.label} onChange={set('label')} />}
        </Field>
      </FilterForm>
      <PagedList
        pages={pages}
        empty={
          <Empty title={filters.filtered ? 'No conversation matches' : 'No conversations yet'}>
            {filters.filtered
              ? 'Clear a filter, or search the email or phone in another spelling.'
              : 'Conversations appear as their events arrive from your sources.'}
          </Empty>
        }
      >
        {(conversations) => <ConversationTable conversations={conversations} names={names} />}
      </PagedList>
    </section>
  );
}

function Bubble({ message, eventId, at }: { message: Message; eventId: string; at: string }) {
  const outbound = message.direction === 'outbound';
  const classes = ['bubble', outbound ? 'out' : 'in', message.private ? 'private' : ''].join(' ');
  return (
    <li className={classes}>
      <div className="bubble-head">
        <strong>
          {message.sender?.name ?? message.sender?.type ?? message.direction ?? 'message'}
        </strong>{' '}
        <Time value={message.createdAt ?? at} />
        {message.private && <span className="tag">private note</span>}
        {message.deleted && <span className="tag">deleted</span>}
      </div>
      <div className="bubble-text">
        {message.text ?? <span className="muted">({message.kind ?? 'no text'})</span>}
      </div>
      {(message.attachments ?? []).map((attachment, index) => (
        <div key={index} className="attachment">
          Attachment: {attachment.name ?? attachment.type ?? 'file'}{' '}
          {attachment.url && <code>{attachment.url}</code>}
        </div>
      ))}
      <Link to={`/events/${eventId}`} className="bubble-link">
        event
      </Link>
    </li>
  );
}

export function ConversationPage({ id }: { id: string }) {
  const [cursor, setCursor] = useState<string | null>(null);
  const conversation = useApi<ConversationDetail>(
    `/api/conversations/${encodeURIComponent(id)}${query({ timelineCursor: cursor })}`,
  );
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  useEffect(() => {
    const page = conversation.data?.timeline;
    if (page) setTimeline((previous) => (cursor ? [...previous, ...page] : page));
  }, [conversation.data, cursor]);
  const names = useContactNames([conversation.data?.contactId ?? null]);
  if (conversation.error) return <ErrorBox error={conversation.error} />;
  if (!conversation.data) return <Loading />;
  const c = conversation.data;
  const seen = new Set<string>();
  const entries = timeline.flatMap((entry) => {
    const messages = [entry.message, ...(entry.messages ?? [])].filter(
      (message): message is Message => {
        if (!message) return false;
        const key = message.externalId ?? `${entry.eventId}:${message.text}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      },
    );
    return messages.length
      ? messages.map((message, index) => (
          <Bubble
            key={`${entry.eventId}-${index}`}
            message={message}
            eventId={entry.eventId}
            at={entry.occurredAt}
          />
        ))
      : [
          <li key={entry.eventId} className="state-change">
            <Time value={entry.occurredAt} /> ·{' '}
            <Link to={`/events/${entry.eventId}`}>{entry.type}</Link>
            {entry.changes !== null && entry.changes !== undefined && (
              <code className="excerpt">{JSON.stringify(entry.changes)}</code>
            )}
          </li>,
        ];
  });
  return (
    <section>
      <div className="title-row">
        <h1>
          Conversation <code>{c.key}</code>
        </h1>
        <Link to={`/events${query({ conversationKey: c.key })}`} className="button">
          Its events
        </Link>
      </div>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <Status value={c.status} />
        </dd>
        <dt>Contact</dt>
        <dd>
          {c.contactId ? (
            <Link to={`/contacts/${c.contactId}`}>{names.get(c.contactId) ?? c.contactId}</Link>
          ) : (
            '—'
          )}
        </dd>
        <dt>Channel</dt>
        <dd>{channelOf(c)}</dd>
        <dt>Assignee</dt>
        <dd>
          {c.assignee?.name ?? '—'}
          {c.team?.name && ` (${c.team.name})`}
        </dd>
        <dt>Labels</dt>
        <dd>
          {c.labels.length
            ? c.labels.map((label) => (
                <span key={label} className="tag">
                  {label}
                </span>
              ))
            : '—'}
        </dd>
        <dt>Messages</dt>
        <dd>
          {c.messageCounts.inbound} in, {c.messageCounts.outbound} out, {c.messageCounts.internal}{' '}
          internal
        </dd>
        <dt>Started</dt>
        <dd>
          <Time value={c.startedAt} />
        </dd>
        <dt>Ended</dt>
        <dd>
          <Time value={c.endedAt} />
        </dd>
      </dl>
      <h2>Transcript</h2>
      {c.eventsPurgedBefore && (
        <p className="hint">
          Events received before <Time value={c.eventsPurgedBefore} /> were purged: the transcript
          may lack them; the state above does not.
        </p>
      )}
      {entries.length === 0 ? (
        <Empty title="No events kept for this conversation" />
      ) : (
        <ol className="transcript">{entries}</ol>
      )}
      {c.timelineNextCursor && (
        <button
          type="button"
          onClick={() => setCursor(c.timelineNextCursor)}
          disabled={conversation.loading}
        >
          Load more
        </button>
      )}
    </section>
  );
}
