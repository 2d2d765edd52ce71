import { useEffect, useState } from 'react';
import { api, Page, query } from '../api';
import { Link } from '../router';
import { CANONICAL_EVENT_TYPES, EventSummary, PlaygroundResult, Subscription } from '../types';
import { ErrorBox, Field, formatTime, Json, useApi } from '../ui';

const EXAMPLE_TRANSFORM = `{
  "text": message.text,
  "from": contact.name,
  "conversation": conversation.key
}`;

/** Runs what the operator writes as they write it (debounced), through POST /api/playground. */
export function PlaygroundPage({ search }: { search: URLSearchParams }) {
  const [eventId, setEventId] = useState(search.get('eventId') ?? '');
  const [eventType, setEventType] = useState('message.created');
  const [transform, setTransform] = useState(EXAMPLE_TRANSFORM);
  const [filter, setFilter] = useState('');
  const [result, setResult] = useState<PlaygroundResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [filterJsonError, setFilterJsonError] = useState<string | null>(null);
  const recent = useApi<Page<EventSummary>>('/api/events?status=routed&limit=20');
  const subscriptionId = search.get('subscriptionId');
  const subscription = useApi<Subscription>(
    subscriptionId ? `/api/subscriptions/${encodeURIComponent(subscriptionId)}` : null,
  );
  useEffect(() => {
    if (!subscription.data) return;
    setTransform(subscription.data.transform ?? '');
    setFilter(subscription.data.filter ? JSON.stringify(subscription.data.filter, null, 2) : '');
  }, [subscription.data]);

  useEffect(() => {
    let parsedFilter: unknown;
    if (filter.trim()) {
      try {
        parsedFilter = JSON.parse(filter);
        setFilterJsonError(null);
      } catch (failure) {
        setFilterJsonError(`not valid JSON: ${(failure as Error).message}`);
        return;
      }
    } else setFilterJsonError(null);
    let live = true;
    const timer = setTimeout(() => {
      api<PlaygroundResult>('POST', '/api/playground', {
        ...(eventId.trim() ? { eventId: eventId.trim() } : { eventType }),
        ...(transform.trim() && { transform }),
        ...(parsedFilter !== undefined && { filter: parsedFilter }),
      }).then(
        (answer) => {
          if (!live) return;
          setResult(answer);
          setError(null);
        },
        (failure: unknown) => live && setError(failure),
      );
    }, 350);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [eventId, eventType, transform, filter]);

  const [saved, setSaved] = useState<unknown>(null);
  const save = () => {
    if (!subscription.data || filterJsonError) return;
    setSaved(null);
    api<Subscription>('PATCH', `/api/subscriptions/${subscription.data.id}`, {
      transform: transform.trim() ? transform : null,
      filter: filter.trim() ? (JSON.parse(filter) as unknown) : null,
    }).then(
      () => setSaved(true),
      (failure: unknown) => setSaved(failure),
    );
  };

  const filterOutcome = filterJsonError
    ? { text: filterJsonError, className: 'bad' }
    : result?.filter
      ? result.filter.error
        ? { text: result.filter.error, className: 'bad' }
        : result.filter.matched
          ? { text: 'The event passes the filter: it would be delivered.', className: 'ok' }
          : {
              text: 'The event does not pass the filter: it would not be delivered.',
              className: 'warn',
            }
      : null;
  return (
    <section>
      <h1>Transform and filter playground</h1>
      <p className="hint">
        Runs as delivery runs them: the transform in the router’s sandbox with its time and size
        budget. Nothing is stored or sent.
        {subscription.data && (
          <>
            {' '}
            Loaded from{' '}
            <Link to={`/subscriptions/${subscription.data.id}`}>{subscription.data.name}</Link>.
          </>
        )}
      </p>
      <div className="grid-2">
        <div>
          <div className="row">
            <Field label="Stored event">
              {(props) => (
                <select
                  {...props}
                  value={eventId}
                  onChange={(event) => setEventId(event.target.value)}
                >
                  <option value="">A sample event instead</option>
                  {eventId && !recent.data?.data.some((event) => event.id === eventId) && (
                    <option value={eventId}>{eventId}</option>
                  )}
                  {(recent.data?.data ?? []).map((event) => (
                    <option key={event.id} value={event.id}>
                      {formatTime(event.receivedAt)} · {event.type} · {event.id.slice(-6)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {!eventId && (
              <Field label="Sample type">
                {(props) => (
                  <select
                    {...props}
                    value={eventType}
                    onChange={(event) => setEventType(event.target.value)}
                  >
                    {CANONICAL_EVENT_TYPES.map((type) => (
                      <option key={type}>{type}</option>
                    ))}
                  </select>
                )}
              </Field>
            )}
          </div>
          <Field
            label="Transform (JSONata)"
            problems={result?.transform?.error ? [result.transform.error] : []}
          >
            {(props) => (
              <textarea
                {...props}
                name="transform"
                className="code"
                rows={10}
                spellCheck={false}
                value={transform}
                onChange={(event) => setTransform(event.target.value)}
              />
            )}
          </Field>
          <Field
            label="Filter (JSON, optional)"
            problems={filterOutcome?.className === 'bad' ? [filterOutcome.text] : []}
          >
            {(props) => (
              <textarea
                {...props}
                name="filter"
                className="code"
                rows={5}
                spellCheck={false}
                value={filter}
                placeholder={'{"conversation.channel.type": "web_widget"}'}
                onChange={(event) => setFilter(event.target.value)}
              />
            )}
          </Field>
          {subscription.data && (
            <div className="actions">
              <button type="button" className="primary" onClick={save} disabled={!!filterJsonError}>
                Save to {subscription.data.name}
              </button>
              <span className="hint">
                A transform makes its deliveries transformed; an empty one clears it.
              </span>
            </div>
          )}
          {saved === true && (
            <p className="notice ok" role="status">
              Saved: the next deliveries use them.
            </p>
          )}
          {saved !== true && <ErrorBox error={saved} />}
        </div>
        <div>
          <ErrorBox error={error} />
          {filterOutcome && filterOutcome.className !== 'bad' && (
            <p className={`notice ${filterOutcome.className}`} data-testid="filter-outcome">
              {filterOutcome.text}
            </p>
          )}
          <h2>Output</h2>
          {result?.transform ? (
            result.transform.error ? (
              <p className="notice bad" data-testid="transform-error">
                {result.transform.error}
              </p>
            ) : (
              <>
                <Json value={result.transform.output} label="Transform output" />
                <p className="hint">{result.transform.durationMs} ms</p>
              </>
            )
          ) : (
            <p className="muted">Write a transform to see the body it makes.</p>
          )}
          {result && (
            <details>
              <summary>
                The {result.input === 'stored' ? 'stored' : 'sample'} event it ran on
              </summary>
              <Json value={result.event} label="Input event" />
            </details>
          )}
          {eventId && (
            <p className="hint">
              <Link to={`/events/${eventId}`}>Open the event</Link> ·{' '}
              <Link to={`/events${query({})}`}>find another</Link>
            </p>
          )}
        </div>
      </div>
    </section>
  );
}
