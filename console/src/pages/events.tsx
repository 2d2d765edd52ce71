import { useState } from 'react';
import { api, Page, query } from '../api';
import { Link } from '../router';
import { CANONICAL_EVENT_TYPES, Delivery, EventDetail, EventSummary, Source } from '../types';
import { ChoiceField, FilterForm, PagedList, useFilters } from '../lists';
import { Empty, ErrorBox, Field, Json, Loading, Status, Time, useApi, usePages } from '../ui';
import { DeliveryTable, useSubscriptions } from './deliveries';

const FILTERS = [
  'sourceId',
  'type',
  'status',
  'since',
  'until',
  'conversationKey',
  'text',
] as const;

export function useSources() {
  const sources = useApi<Page<Source>>('/api/sources?limit=200');
  return sources.data?.data ?? [];
}

export function EventsPage({ search }: { search: URLSearchParams }) {
  const filters = useFilters('/events', FILTERS, search, ['since', 'until']);
  const { form, set } = filters;
  const sources = useSources();
  const pages = usePages<EventSummary>(`/api/events${query(filters.applied)}`);
  const sourceName = (id: string) => sources.find((source) => source.id === id)?.name ?? id;
  return (
    <section>
      <h1>Events</h1>
      <FilterForm label="Filter events" filters={filters}>
        <Field label="Text in the payload">
          {(props) => (
            <input
              {...props}
              type="search"
              value={form.text}
              onChange={set('text')}
              placeholder="order 1234"
            />
          )}
        </Field>
        <ChoiceField
          label="Source"
          value={form.sourceId}
          onChange={set('sourceId')}
          any="Any source"
          choices={sources.map((source) => ({
            value: source.id,
            label: `${source.name} (${source.kind})`,
          }))}
        />
        <ChoiceField
          label="Type"
          value={form.type}
          onChange={set('type')}
          any="Any type"
          choices={CANONICAL_EVENT_TYPES}
        />
        <ChoiceField
          label="Status"
          value={form.status}
          onChange={set('status')}
          any="Any status"
          choices={['routed', 'unprocessable']}
        />
        <Field label="Received from">
          {(props) => (
            <input {...props} type="datetime-local" value={form.since} onChange={set('since')} />
          )}
        </Field>
        <Field label="Received before">
          {(props) => (
            <input {...props} type="datetime-local" value={form.until} onChange={set('until')} />
          )}
        </Field>
        <Field label="Conversation key">
          {(props) => (
            <input
              {...props}
              value={form.conversationKey}
              onChange={set('conversationKey')}
              placeholder="chatwoot:src_…:42"
            />
          )}
        </Field>
      </FilterForm>
      <PagedList
        pages={pages}
        empty={
          filters.filtered ? (
            <Empty title="No event matches these filters">
              Widen the time range or clear a filter.
            </Empty>
          ) : (
            <Empty title="No events yet">
              Events appear here once a source receives a webhook.{' '}
              <Link to="/sources/new">Create a source</Link> and paste its URL into Jivo or
              Chatwoot.
            </Empty>
          )
        }
      >
        {(events) => (
          <table>
            <thead>
              <tr>
                <th>Received</th>
                <th>Type</th>
                <th>Source</th>
                <th>Status</th>
                <th>Conversation</th>
                <th>Id</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id}>
                  <td>
                    <Time value={event.receivedAt} />
                  </td>
                  <td>{event.type ?? <span className="muted">{event.sourceEvent ?? '—'}</span>}</td>
                  <td>{sourceName(event.sourceId)}</td>
                  <td>
                    <Status value={event.status} />
                  </td>
                  <td className="clip">
                    <ConversationKeyLink value={event.conversationKey} />
                  </td>
                  <td>
                    <Link to={`/events/${event.id}`}>
                      <code>{event.id}</code>
                    </Link>
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

/** A conversation key, linked to the list of its events. */
function ConversationKeyLink({ value }: { value: string | null }) {
  if (!value) return <>—</>;
  return <Link to={`/events${query({ conversationKey: value })}`}>{value}</Link>;
}

export function EventPage({ id }: { id: string }) {
  const detail = useApi<EventDetail>(`/api/events/${encodeURIComponent(id)}`);
  const [replayed, setReplayed] = useState<Delivery[] | null>(null);
  const [replayError, setReplayError] = useState<unknown>(null);
  const [tab, setTab] = useState<'canonical' | 'raw'>('canonical');
  const subscriptions = useSubscriptions();
  const [chosen, setChosen] = useState<string[]>([]);
  const replay = (subscriptionIds?: string[]) => {
    setReplayError(null);
    api<{ data: Delivery[] }>(
      'POST',
      `/api/events/${encodeURIComponent(id)}/replay`,
      subscriptionIds ? { subscriptionIds } : {},
    ).then((answer) => {
      setReplayed(answer.data);
      detail.reload();
    }, setReplayError);
  };
  if (detail.error) return <ErrorBox error={detail.error} />;
  if (!detail.data) return <Loading />;
  const event = detail.data;
  return (
    <section>
      <div className="title-row">
        <h1>
          Event <code>{event.id}</code>
        </h1>
        <button type="button" onClick={() => replay()} disabled={event.status !== 'routed'}>
          Replay to matching subscriptions
        </button>
      </div>
      {event.status === 'routed' && subscriptions.length > 0 && (
        <details className="panel">
          <summary>Replay to chosen subscriptions</summary>
          <fieldset>
            <legend>Send this event again (same webhook-id) to</legend>
            {subscriptions
              .filter((subscription) => subscription.enabled)
              .map((subscription) => (
                <label key={subscription.id} className="check">
                  <input
                    type="checkbox"
                    checked={chosen.includes(subscription.id)}
                    onChange={(change) =>
                      setChosen(
                        change.target.checked
                          ? [...chosen, subscription.id]
                          : chosen.filter((one) => one !== subscription.id),
                      )
                    }
                  />
                  {subscription.name}
                </label>
              ))}
          </fieldset>
          <button type="button" disabled={chosen.length === 0} onClick={() => replay(chosen)}>
            Replay to {chosen.length} chosen
          </button>
        </details>
      )}
      <ErrorBox error={replayError} />
      {replayed && (
        <p className="notice" role="status">
          Replayed: {replayed.length} new {replayed.length === 1 ? 'delivery' : 'deliveries'} queued
          {replayed.length === 0 && ' (no enabled subscription matches this event now)'}.
        </p>
      )}
      <dl className="facts">
        <dt>Type</dt>
        <dd>{event.type ?? '—'}</dd>
        <dt>Status</dt>
        <dd>
          <Status value={event.status} /> {event.error}
        </dd>
        <dt>Source</dt>
        <dd>
          <Link to={`/sources/${event.sourceId}`}>{event.sourceId}</Link> ({event.sourceKind},{' '}
          {event.sourceEvent ?? 'no event name'})
        </dd>
        <dt>Conversation</dt>
        <dd>
          <ConversationKeyLink value={event.conversationKey} />
        </dd>
        <dt>Occurred</dt>
        <dd>
          <Time value={event.occurredAt} />
        </dd>
        <dt>Received</dt>
        <dd>
          <Time value={event.receivedAt} />
        </dd>
      </dl>
      <h2>Deliveries</h2>
      {event.deliveries.length === 0 ? (
        <Empty title="No deliveries">
          {event.status === 'routed'
            ? 'No subscription matched this event when it arrived. Create one, then replay the event.'
            : 'An unprocessable event is not routed.'}
        </Empty>
      ) : (
        <DeliveryTable
          deliveries={event.deliveries}
          names={new Map(subscriptions.map((subscription) => [subscription.id, subscription.name]))}
        />
      )}
      <div className="tabs" role="tablist" aria-label="Payload">
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'canonical'}
          onClick={() => setTab('canonical')}
        >
          Canonical event
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'raw'}
          onClick={() => setTab('raw')}
        >
          Raw payload as received
        </button>
        {event.event && (
          <Link to={`/playground${query({ eventId: event.id })}`} className="tab-link">
            Try a transform on it
          </Link>
        )}
      </div>
      <div role="tabpanel">
        {tab === 'canonical' ? (
          event.event ? (
            <Json value={event.event} label="Canonical event" />
          ) : (
            <Empty title="No canonical form">{event.error}</Empty>
          )
        ) : (
          <Json value={event.raw} label="Raw payload" />
        )}
      </div>
    </section>
  );
}
