import { FormEvent, useState } from 'react';
import { query } from '../api';
import { Link, navigate } from '../router';
import { Empty, ErrorBox, Field, Loading, MoreButton, Status, Time, useApi, usePages } from '../ui';
import { useSources } from './events';

/** The conversations API (docs/conversations.md). */
export interface ConversationSummary {
  id: string;
  key: string;
  sourceId: string;
  sourceKind: string;
  externalId: string;
  status: string;
  channel?: { type?: string | null; name?: string | null } | null;
  assignee?: { name?: string | null } | null;
  contactId?: string | null;
  contact?: {
    id?: string;
    name?: string | null;
    email?: string | null;
    phone?: string | null;
  } | null;
  lastMessagePreview?: string | null;
  lastActivityAt?: string | null;
  startedAt?: string | null;
  endedAt?: string | null;
}

interface TimelineEntry {
  eventId: string;
  type: string;
  occurredAt: string;
  message?: {
    direction?: string;
    kind?: string;
    text?: string | null;
    sender?: { type?: string; name?: string | null } | null;
    attachments?: { url?: string | null; name?: string | null; type?: string | null }[];
    private?: boolean;
  } | null;
  changes?: Record<string, unknown> | null;
  status?: string | null;
}

interface ConversationDetail extends ConversationSummary {
  timeline: TimelineEntry[];
  purgedBefore?: string | null;
}

const FILTERS = [
  'q',
  'sourceId',
  'status',
  'channel',
  'assignee',
  'label',
  'since',
  'until',
] as const;

export function ConversationsPage({ search }: { search: URLSearchParams }) {
  const applied = Object.fromEntries(
    FILTERS.map((name) => [name, search.get(name) ?? '']),
  ) as Record<string, string>;
  const [form, setForm] = useState(applied);
  const sources = useSources();
  const pages = usePages<ConversationSummary>(`/api/conversations${query(applied)}`);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(`/conversations${query(form)}`);
  };
  const filtered = FILTERS.some((name) => applied[name]);
  return (
    <section>
      <h1>Conversations</h1>
      <form className="filters" onSubmit={submit} aria-label="Filter conversations">
        <Field label="Contact name, email or phone">
          {(props) => (
            <input
              {...props}
              type="search"
              value={form.q}
              onChange={(event) => setForm({ ...form, q: event.target.value })}
            />
          )}
        </Field>
        <Field label="Source">
          {(props) => (
            <select
              {...props}
              value={form.sourceId}
              onChange={(event) => setForm({ ...form, sourceId: event.target.value })}
            >
              <option value="">Any source</option>
              {sources.map((source) => (
                <option key={source.id} value={source.id}>
                  {source.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Status">
          {(props) => (
            <select
              {...props}
              value={form.status}
              onChange={(event) => setForm({ ...form, status: event.target.value })}
            >
              <option value="">Any status</option>
              {['open', 'pending', 'snoozed', 'resolved', 'offline', 'unknown'].map((status) => (
                <option key={status}>{status}</option>
              ))}
            </select>
          )}
        </Field>
        <div className="filter-actions">
          <button type="submit" className="primary">
            Search
          </button>
          {filtered && (
            <button type="button" onClick={() => navigate('/conversations')}>
              Clear
            </button>
          )}
        </div>
      </form>
      <ErrorBox error={pages.error} />
      {pages.items.length === 0 && !pages.loading && !pages.error && (
        <Empty title={filtered ? 'No conversation matches' : 'No conversations yet'}>
          {filtered
            ? 'Clear a filter.'
            : 'Conversations appear as their events arrive from your sources.'}
        </Empty>
      )}
      {pages.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Last activity</th>
              <th>Contact</th>
              <th>Channel</th>
              <th>Status</th>
              <th>Assignee</th>
              <th>Last message</th>
            </tr>
          </thead>
          <tbody>
            {pages.items.map((conversation) => (
              <tr key={conversation.id}>
                <td>
                  <Link to={`/conversations/${conversation.id}`}>
                    <Time value={conversation.lastActivityAt ?? conversation.startedAt} />
                  </Link>
                </td>
                <td>
                  {conversation.contactId ? (
                    <Link to={`/contacts/${conversation.contactId}`}>
                      {conversation.contact?.name ?? conversation.contactId}
                    </Link>
                  ) : (
                    (conversation.contact?.name ?? '—')
                  )}
                </td>
                <td>
                  {conversation.sourceKind} ·{' '}
                  {conversation.channel?.name ?? conversation.channel?.type ?? '—'}
                </td>
                <td>
                  <Status value={conversation.status} />
                </td>
                <td>{conversation.assignee?.name ?? '—'}</td>
                <td className="clip">{conversation.lastMessagePreview ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pages.loading && <Loading />}
      <MoreButton pages={pages} />
    </section>
  );
}

export function ConversationPage({ id }: { id: string }) {
  const conversation = useApi<ConversationDetail>(`/api/conversations/${encodeURIComponent(id)}`);
  if (conversation.error) return <ErrorBox error={conversation.error} />;
  if (!conversation.data) return <Loading />;
  const c = conversation.data;
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
            <Link to={`/contacts/${c.contactId}`}>{c.contact?.name ?? c.contactId}</Link>
          ) : (
            '—'
          )}
        </dd>
        <dt>Channel</dt>
        <dd>
          {c.sourceKind} · {c.channel?.name ?? c.channel?.type ?? '—'}
        </dd>
        <dt>Assignee</dt>
        <dd>{c.assignee?.name ?? '—'}</dd>
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
      {c.purgedBefore && (
        <p className="hint">
          Events before <Time value={c.purgedBefore} /> were purged.
        </p>
      )}
      {c.timeline.length === 0 ? (
        <Empty title="No events kept for this conversation" />
      ) : (
        <ol className="transcript">
          {c.timeline.map((entry) =>
            entry.message ? (
              <li
                key={entry.eventId}
                className={`bubble ${entry.message.direction === 'outbound' ? 'out' : 'in'}${entry.message.private ? ' private' : ''}`}
              >
                <div className="bubble-head">
                  <strong>
                    {entry.message.sender?.name ??
                      entry.message.sender?.type ??
                      entry.message.direction}
                  </strong>{' '}
                  <Time value={entry.occurredAt} />
                  {entry.message.private && <span className="tag">private note</span>}
                </div>
                <div className="bubble-text">
                  {entry.message.text ?? (
                    <span className="muted">({entry.message.kind ?? 'no text'})</span>
                  )}
                </div>
                {(entry.message.attachments ?? []).map((attachment, index) => (
                  <div key={index} className="attachment">
                    📎 {attachment.name ?? attachment.type ?? 'attachment'}{' '}
                    {attachment.url && <code>{attachment.url}</code>}
                  </div>
                ))}
                <Link to={`/events/${entry.eventId}`} className="bubble-link">
                  event
                </Link>
              </li>
            ) : (
              <li key={entry.eventId} className="state-change">
                <Time value={entry.occurredAt} /> ·{' '}
                <Link to={`/events/${entry.eventId}`}>{entry.type}</Link>
                {entry.status && (
                  <>
                    {' '}
                    → <Status value={entry.status} />
                  </>
                )}
                {entry.changes && <code className="excerpt">{JSON.stringify(entry.changes)}</code>}
              </li>
            ),
          )}
        </ol>
      )}
    </section>
  );
}
