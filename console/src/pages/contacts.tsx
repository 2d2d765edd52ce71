import { FormEvent, useState } from 'react';
import { query } from '../api';
import { Link, navigate } from '../router';
import { Empty, ErrorBox, Field, Loading, MoreButton, Status, Time, useApi, usePages } from '../ui';
import { ConversationSummary } from './conversations';

interface Identity {
  id?: string;
  sourceId: string;
  sourceKind?: string;
  externalId?: string | null;
  email?: string | null;
  phoneE164?: string | null;
  name?: string | null;
}

interface ContactSummary {
  id: string;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  phoneE164?: string | null;
  identities?: Identity[];
  updatedAt?: string;
  createdAt?: string;
}

interface ContactDetail extends ContactSummary {
  identities: Identity[];
  conversations: ConversationSummary[];
}

export function ContactsPage({ search }: { search: URLSearchParams }) {
  const q = search.get('q') ?? '';
  const [text, setText] = useState(q);
  const pages = usePages<ContactSummary>(`/api/contacts${query({ q })}`);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(`/contacts${query({ q: text })}`);
  };
  return (
    <section>
      <h1>Contacts</h1>
      <form className="filters" onSubmit={submit} aria-label="Search contacts">
        <Field label="Name, email or phone">
          {(props) => (
            <input
              {...props}
              type="search"
              value={text}
              onChange={(event) => setText(event.target.value)}
            />
          )}
        </Field>
        <div className="filter-actions">
          <button type="submit" className="primary">
            Search
          </button>
        </div>
      </form>
      <ErrorBox error={pages.error} />
      {pages.items.length === 0 && !pages.loading && !pages.error && (
        <Empty title={q ? 'No contact matches' : 'No contacts yet'}>
          {q
            ? 'Try the email or the phone in another format.'
            : 'Contacts appear as people write through your sources.'}
        </Empty>
      )}
      {pages.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Phone</th>
              <th>Sources</th>
            </tr>
          </thead>
          <tbody>
            {pages.items.map((contact) => (
              <tr key={contact.id}>
                <td>
                  <Link to={`/contacts/${contact.id}`}>{contact.name ?? contact.id}</Link>
                </td>
                <td>{contact.email ?? '—'}</td>
                <td>{contact.phoneE164 ?? contact.phone ?? '—'}</td>
                <td>
                  {[
                    ...new Set(
                      (contact.identities ?? []).map(
                        (identity) => identity.sourceKind ?? identity.sourceId,
                      ),
                    ),
                  ].join(', ')}
                </td>
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

export function ContactPage({ id }: { id: string }) {
  const contact = useApi<ContactDetail>(`/api/contacts/${encodeURIComponent(id)}`);
  if (contact.error) return <ErrorBox error={contact.error} />;
  if (!contact.data) return <Loading />;
  const c = contact.data;
  return (
    <section>
      <h1>{c.name ?? c.id}</h1>
      <dl className="facts">
        <dt>Email</dt>
        <dd>{c.email ?? '—'}</dd>
        <dt>Phone</dt>
        <dd>{c.phoneE164 ?? c.phone ?? '—'}</dd>
        <dt>Id</dt>
        <dd>
          <code>{c.id}</code>
        </dd>
      </dl>
      <h2>Identities</h2>
      <table>
        <thead>
          <tr>
            <th>Source</th>
            <th>Native id</th>
            <th>Name</th>
            <th>Email</th>
            <th>Phone</th>
          </tr>
        </thead>
        <tbody>
          {c.identities.map((identity, index) => (
            <tr key={identity.id ?? index}>
              <td>
                <Link to={`/sources/${identity.sourceId}`}>
                  {identity.sourceKind ?? identity.sourceId}
                </Link>
              </td>
              <td>{identity.externalId ?? '—'}</td>
              <td>{identity.name ?? '—'}</td>
              <td>{identity.email ?? '—'}</td>
              <td>{identity.phoneE164 ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Conversations on every source</h2>
      {c.conversations.length === 0 ? (
        <Empty title="No conversations" />
      ) : (
        <table>
          <thead>
            <tr>
              <th>Last activity</th>
              <th>Source</th>
              <th>Status</th>
              <th>Last message</th>
            </tr>
          </thead>
          <tbody>
            {c.conversations.map((conversation) => (
              <tr key={conversation.id}>
                <td>
                  <Link to={`/conversations/${conversation.id}`}>
                    <Time value={conversation.lastActivityAt ?? conversation.startedAt} />
                  </Link>
                </td>
                <td>
                  {conversation.sourceKind} ·{' '}
                  {conversation.channel?.name ?? conversation.channel?.type ?? ''}
                </td>
                <td>
                  <Status value={conversation.status} />
                </td>
                <td className="clip">{conversation.lastMessagePreview ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
