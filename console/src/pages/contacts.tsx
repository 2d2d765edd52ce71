import { query } from '../api';
import { Link } from '../router';
import { FilterForm, PagedList, useFilters } from '../lists';
import { Empty, ErrorBox, Field, Loading, Time, useApi, usePages } from '../ui';
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

const FILTERS = ['q'] as const;

export function ContactsPage({ search }: { search: URLSearchParams }) {
  const filters = useFilters('/contacts', FILTERS, search);
  const pages = usePages<Contact>(`/api/contacts${query(filters.applied)}`);
  return (
    <section>
      <h1>Contacts</h1>
      <FilterForm label="Search contacts" filters={filters}>
        <Field label="Name, email or phone">
          {(props) => (
            <input {...props} type="search" value={filters.form.q} onChange={filters.set('q')} />
          )}
        </Field>
      </FilterForm>
      <PagedList
        pages={pages}
        empty={
          <Empty title={filters.filtered ? 'No contact matches' : 'No contacts yet'}>
            {filters.filtered
              ? 'Try the email, or the phone in another format.'
              : 'Contacts appear as people write through your sources.'}
          </Empty>
        }
      >
        {(contacts) => (
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
              {contacts.map((contact) => (
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
      </PagedList>
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
