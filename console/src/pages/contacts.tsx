import { FormEvent, useState } from 'react';
import { query } from '../api';
import { Link, navigate } from '../router';
import { Empty, ErrorBox, Field, Loading, MoreButton, Time, useApi, usePages } from '../ui';
import { Conversation, ConversationTable } from './conversations';

interface Contact {
  id: string;
  name: string | null;
  email: string | null;
  phoneE164: string | null;
  createdAt: string;
  updatedAt: string;
}

interface ContactDetail extends Contact {
  identities: {
    id: string;
    sourceId: string;
    sourceKind: string;
    externalId: string;
    name: string | null;
    email: string | null;
    phone: string | null;
    phoneE164: string | null;
    autoJoin: boolean;
  }[];
  conversations: Conversation[];
  links: {
    reason: string;
    identityId: string | null;
    otherContactId: string | null;
    value: string | null;
    eventId: string | null;
    at: string;
  }[];
}

export function ContactsPage({ search }: { search: URLSearchParams }) {
  const q = search.get('q') ?? '';
  const [text, setText] = useState(q);
  const pages = usePages<Contact>(`/api/contacts${query({ q })}`);
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
            ? 'Try the email, or the phone in another format.'
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
              <th>Last change</th>
            </tr>
          </thead>
          <tbody>
            {pages.items.map((contact) => (
              <tr key={contact.id}>
                <td>
                  <Link to={`/contacts/${contact.id}`}>
                    {contact.name ?? contact.email ?? contact.id}
                  </Link>
                </td>
                <td>{contact.email ?? '—'}</td>
                <td>{contact.phoneE164 ?? '—'}</td>
                <td>
                  <Time value={contact.updatedAt} />
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
      <h1>{c.name ?? c.email ?? c.id}</h1>
      <dl className="facts">
        <dt>Email</dt>
        <dd>{c.email ?? '—'}</dd>
        <dt>Phone</dt>
        <dd>{c.phoneE164 ?? '—'}</dd>
        <dt>Id</dt>
        <dd>
          <code>{c.id}</code>
        </dd>
      </dl>
      <h2>Identities on every source</h2>
      <table>
        <thead>
          <tr>
            <th>Source</th>
            <th>Native id</th>
            <th>Name</th>
            <th>Email</th>
            <th>Phone</th>
            <th>Joins automatically</th>
          </tr>
        </thead>
        <tbody>
          {c.identities.map((identity) => (
            <tr key={identity.id}>
              <td>
                <Link to={`/sources/${identity.sourceId}`}>{identity.sourceKind}</Link>
              </td>
              <td>{identity.externalId}</td>
              <td>{identity.name ?? '—'}</td>
              <td>{identity.email ?? '—'}</td>
              <td>{identity.phoneE164 ?? identity.phone ?? '—'}</td>
              <td>{identity.autoJoin ? 'yes' : 'no (split by hand)'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Conversations</h2>
      {c.conversations.length === 0 ? (
        <Empty title="No conversations" />
      ) : (
        <ConversationTable
          conversations={c.conversations}
          names={new Map([[c.id, c.name ?? c.email ?? c.id]])}
        />
      )}
      {c.links.length > 0 && (
        <>
          <h2>Why these identities are one person</h2>
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Reason</th>
                <th>Value</th>
                <th>Event</th>
              </tr>
            </thead>
            <tbody>
              {c.links.map((link, index) => (
                <tr key={index}>
                  <td>
                    <Time value={link.at} />
                  </td>
                  <td>{link.reason}</td>
                  <td>{link.value ?? '—'}</td>
                  <td>
                    {link.eventId ? (
                      <Link to={`/events/${link.eventId}`}>{link.eventId}</Link>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
