import { FormEvent, useState } from 'react';
import { ChoiceField, FilterForm, PagedList, useFilters } from '../lists';
import { api, Page, query } from '../api';
import { Link } from '../router';
import { Delivery, Subscription } from '../types';
import {
  Empty,
  ErrorBox,
  Field,
  Loading,
  localToIso,
  Status,
  Time,
  useApi,
  useInterval,
  usePages,
} from '../ui';

export function useSubscriptions() {
  const subscriptions = useApi<Page<Subscription>>('/api/subscriptions?limit=200');
  return subscriptions.data?.data ?? [];
}

export function DeliveryTable({
  deliveries,
  names,
}: {
  deliveries: Delivery[];
  names?: Map<string, string>;
}) {
  return (
    <table>
      <thead>
        <tr>
          <th>Created</th>
          <th>Status</th>
          <th>Subscription</th>
          <th className="number">Attempts</th>
          <th>Last result</th>
          <th>Next attempt</th>
          <th>Id</th>
        </tr>
      </thead>
      <tbody>
        {deliveries.map((delivery) => (
          <tr key={delivery.id}>
            <td>
              <Time value={delivery.createdAt} />
            </td>
            <td>
              <Status value={delivery.status} />
            </td>
            <td>
              <Link to={`/subscriptions/${delivery.subscriptionId}`}>
                {names?.get(delivery.subscriptionId) ?? delivery.subscriptionId}
              </Link>
            </td>
            <td className="number">{delivery.attemptCount}</td>
            <td className="clip">
              {delivery.lastError ??
                (delivery.lastStatusCode ? `HTTP ${delivery.lastStatusCode}` : '—')}
            </td>
            <td>
              <Time value={delivery.nextAttemptAt} />
            </td>
            <td>
              <Link to={`/deliveries/${delivery.id}`}>
                <code>{delivery.id}</code>
              </Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const FILTERS = ['status', 'subscriptionId', 'eventId'] as const;
const STATUSES = [
  { value: 'pending', label: 'pending' },
  { value: 'succeeded', label: 'succeeded' },
  { value: 'failed', label: 'failed (retry scheduled)' },
  { value: 'dead', label: 'dead' },
  { value: 'held', label: 'held (ordered, waiting their turn)' },
  { value: 'blocked', label: 'blocked (ordered, behind a dead head)' },
];

export function DeliveriesPage({ search }: { search: URLSearchParams }) {
  const filters = useFilters('/deliveries', FILTERS, search);
  const { form, set } = filters;
  const subscriptions = useSubscriptions();
  const names = new Map(subscriptions.map((subscription) => [subscription.id, subscription.name]));
  const pages = usePages<Delivery>(`/api/deliveries${query(filters.applied)}`);
  return (
    <section>
      <h1>Deliveries</h1>
      <FilterForm label="Filter deliveries" filters={filters} submitLabel="Filter">
        <ChoiceField
          label="Status"
          value={form.status}
          onChange={set('status')}
          any="Any status"
          choices={STATUSES}
        />
        <ChoiceField
          label="Subscription"
          value={form.subscriptionId}
          onChange={set('subscriptionId')}
          any="Any subscription"
          choices={subscriptions.map((subscription) => ({
            value: subscription.id,
            label: subscription.name,
          }))}
        />
        <Field label="Event id">
          {(props) => (
            <input {...props} value={form.eventId} onChange={set('eventId')} placeholder="evt_…" />
          )}
        </Field>
      </FilterForm>
      <PagedList
        pages={pages}
        empty={
          filters.filtered ? (
            <Empty title="No delivery matches these filters" />
          ) : (
            <Empty title="No deliveries yet">
              A delivery is made for each subscription an event matches.{' '}
              <Link to="/subscriptions/new">Create a subscription</Link>.
            </Empty>
          )
        }
      >
        {(deliveries) => <DeliveryTable deliveries={deliveries} names={names} />}
      </PagedList>
      <Redrive subscriptions={subscriptions} onDone={pages.reload} />
    </section>
  );
}

function Redrive({ subscriptions, onDone }: { subscriptions: Subscription[]; onDone(): void }) {
  const [selection, setSelection] = useState({ status: 'dead', subscriptionId: '', since: '' });
  const [preview, setPreview] = useState<number | null>(null);
  const [result, setResult] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const body = () => ({
    status: selection.status,
    subscriptionId: selection.subscriptionId || undefined,
    since: localToIso(selection.since),
  });
  const change = (next: Partial<typeof selection>) => {
    setSelection({ ...selection, ...next });
    setPreview(null);
    setResult(null);
  };
  const previewCount = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    api<{ matching: number }>('POST', '/api/deliveries/retry/preview', body()).then(
      (answer) => setPreview(answer.matching),
      setError,
    );
  };
  const redrive = () => {
    setError(null);
    api<{ redriven: number }>('POST', '/api/deliveries/retry', body()).then((answer) => {
      setResult(answer.redriven);
      setPreview(null);
      onDone();
    }, setError);
  };
  return (
    <form className="panel" onSubmit={previewCount} aria-label="Bulk re-drive">
      <h2>Bulk re-drive</h2>
      <p className="hint">
        Queue again every delivery of enabled subscriptions in this state, each with a fresh attempt
        budget. Preview first: nothing is queued until you confirm.
      </p>
      <div className="filters">
        <Field label="Deliveries that are">
          {(props) => (
            <select
              {...props}
              value={selection.status}
              onChange={(event) => change({ status: event.target.value })}
            >
              <option value="dead">dead</option>
              <option value="failed">failed (send now, not at the next retry)</option>
              <option value="pending">pending but stranded (their job is gone)</option>
              <option value="blocked">blocked (the dead head of an ordered conversation)</option>
            </select>
          )}
        </Field>
        <ChoiceField
          label="Of subscription"
          value={selection.subscriptionId}
          onChange={(event) => change({ subscriptionId: event.target.value })}
          any="Every enabled subscription"
          choices={subscriptions.map((subscription) => ({
            value: subscription.id,
            label: subscription.name,
          }))}
        />
        <Field label="Created from">
          {(props) => (
            <input
              {...props}
              type="datetime-local"
              value={selection.since}
              onChange={(event) => change({ since: event.target.value })}
            />
          )}
        </Field>
        <div className="filter-actions">
          <button type="submit">Preview</button>
        </div>
      </div>
      <ErrorBox error={error} />
      {preview !== null && (
        <p role="status" className="notice">
          {preview === 0 ? (
            'No delivery matches: nothing to re-drive.'
          ) : (
            <>
              <strong data-testid="redrive-preview">{preview}</strong>{' '}
              {preview === 1 ? 'delivery' : 'deliveries'} would be queued again.{' '}
              <button type="button" className="primary" onClick={redrive}>
                Re-drive {preview}
              </button>
            </>
          )}
        </p>
      )}
      {result !== null && (
        <p role="status" className="notice">
          Re-driven: {result} queued again.
        </p>
      )}
    </form>
  );
}

export function DeliveryPage({ id }: { id: string }) {
  const delivery = useApi<Delivery>(`/api/deliveries/${encodeURIComponent(id)}`);
  const subscriptions = useSubscriptions();
  const [error, setError] = useState<unknown>(null);
  const [retried, setRetried] = useState(false);
  const inFlight = delivery.data?.status === 'pending' || delivery.data?.status === 'failed';
  useInterval(delivery.reload, 1000, inFlight);
  const retry = () => {
    setError(null);
    api<Delivery>('POST', `/api/deliveries/${encodeURIComponent(id)}/retry`).then(() => {
      setRetried(true);
      delivery.reload();
    }, setError);
  };
  if (delivery.error) return <ErrorBox error={delivery.error} />;
  if (!delivery.data) return <Loading />;
  const d = delivery.data;
  return (
    <section>
      <div className="title-row">
        <h1>
          Delivery <code>{d.id}</code>
        </h1>
        <button type="button" className="primary" onClick={retry} disabled={d.status === 'pending'}>
          Retry now
        </button>
      </div>
      <ErrorBox error={error} />
      {retried && (
        <p className="notice" role="status">
          Queued again with a fresh attempt budget.
        </p>
      )}
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <Status value={d.status} />
        </dd>
        <dt>Event</dt>
        <dd>
          <Link to={`/events/${d.eventId}`}>{d.eventId}</Link>
        </dd>
        <dt>Subscription</dt>
        <dd>
          <Link to={`/subscriptions/${d.subscriptionId}`}>
            {subscriptions.find((subscription) => subscription.id === d.subscriptionId)?.name ??
              d.subscriptionId}
          </Link>
        </dd>
        <dt>Attempts</dt>
        <dd>{d.attemptCount}</dd>
        <dt>Next attempt</dt>
        <dd>
          <Time value={d.nextAttemptAt} />
        </dd>
        <dt>Completed</dt>
        <dd>
          <Time value={d.completedAt} />
        </dd>
        <dt>Last error</dt>
        <dd>{d.lastError ?? '—'}</dd>
      </dl>
      <h2>Attempt log</h2>
      {(d.attempts ?? []).length === 0 ? (
        <Empty title="No attempt yet">
          The first attempt is queued; this page refreshes until it is made.
        </Empty>
      ) : (
        <table className="attempts">
          <thead>
            <tr>
              <th className="number">#</th>
              <th>Time</th>
              <th>Result</th>
              <th className="number">Status</th>
              <th className="number">Duration</th>
              <th>Error</th>
              <th>Response excerpt</th>
            </tr>
          </thead>
          <tbody>
            {[...(d.attempts ?? [])].reverse().map((attempt) => (
              <tr key={attempt.attemptNumber}>
                <td className="number">{attempt.attemptNumber}</td>
                <td>
                  <Time value={attempt.startedAt} />
                </td>
                <td>
                  <Status value={attempt.succeeded ? 'succeeded' : 'failed'} />
                </td>
                <td className="number">{attempt.statusCode ?? '—'}</td>
                <td className="number">{attempt.durationMs} ms</td>
                <td>{attempt.error ?? '—'}</td>
                <td>
                  <code className="excerpt">{attempt.responseExcerpt ?? ''}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
