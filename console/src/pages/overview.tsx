import { useState } from 'react';
import { Link } from '../router';
import { Overview, QueueCounts } from '../types';
import { Empty, ErrorBox, formatTime, Loading, Time, useApi, useInterval } from '../ui';

const EVENT_SERIES = [
  { key: 'routed', label: 'Routed', className: 'fill-ok' },
  { key: 'unprocessable', label: 'Unprocessable', className: 'fill-warn' },
] as const;
const DELIVERY_SERIES = [
  { key: 'succeeded', label: 'Succeeded', className: 'fill-ok' },
  { key: 'pending', label: 'Pending', className: 'fill-info' },
  { key: 'failed', label: 'Failing (retry scheduled)', className: 'fill-warn' },
  { key: 'dead', label: 'Dead', className: 'fill-bad' },
  { key: 'held', label: 'Held (ordered, waiting their turn)', className: 'fill-info' },
  { key: 'blocked', label: 'Blocked (ordered, behind a dead head)', className: 'fill-bad' },
] as const;

export function OverviewPage() {
  const [window, setWindow] = useState<'hour' | 'day'>('hour');
  const overview = useApi<Overview>(`/api/overview?window=${window}`);
  const queues = useApi<QueueCounts>('/api/queues');
  useInterval(() => {
    overview.reload();
    queues.reload();
  }, 15_000);
  const data = overview.data;
  return (
    <section>
      <div className="title-row">
        <h1>Overview</h1>
        <div role="group" aria-label="Time window" className="segmented">
          {(['hour', 'day'] as const).map((value) => (
            <button
              key={value}
              type="button"
              aria-pressed={window === value}
              onClick={() => setWindow(value)}
            >
              Last {value}
            </button>
          ))}
        </div>
      </div>
      <ErrorBox error={overview.error} />
      {!data && overview.loading && <Loading />}
      {data && (
        <>
          <div className="cards">
            <Total label="Events received" value={sum(data.events, ['routed', 'unprocessable'])} />
            <Total label="Unprocessable" value={sum(data.events, ['unprocessable'])} />
            <Total label="Deliveries succeeded" value={sum(data.deliveries, ['succeeded'])} />
            <Total label="Deliveries failing" value={sum(data.deliveries, ['failed'])} />
            <Total label="Dead deliveries" value={sum(data.deliveries, ['dead'])} />
          </div>
          <div className="grid-2">
            <div className="panel">
              <h2>Events received</h2>
              <Chart
                buckets={data.events}
                series={EVENT_SERIES}
                label="Events received per bucket"
              />
            </div>
            <div className="panel">
              <h2>Deliveries by outcome</h2>
              <Chart
                buckets={data.deliveries}
                series={DELIVERY_SERIES}
                label="Deliveries created per bucket, by their status now"
              />
            </div>
          </div>
          <div className="grid-2">
            <div className="panel">
              <h2>Failing subscriptions</h2>
              {data.failingSubscriptions.length === 0 ? (
                <Empty title="No failing deliveries in this window">
                  Every delivery of the last {window} succeeded or is still on its way.
                </Empty>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th>Subscription</th>
                      <th>Failing</th>
                      <th>Dead</th>
                      <th>Last error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.failingSubscriptions.map((row) => (
                      <tr key={row.id}>
                        <td>
                          <Link to={`/subscriptions/${row.id}`}>{row.name}</Link>
                          {!row.enabled && <span className="status status-disabled">disabled</span>}
                        </td>
                        <td>
                          <Link to={`/deliveries?status=failed&subscriptionId=${row.id}`}>
                            {row.failed}
                          </Link>
                        </td>
                        <td>
                          <Link to={`/deliveries?status=dead&subscriptionId=${row.id}`}>
                            {row.dead}
                          </Link>
                        </td>
                        <td className="clip">{row.lastError}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
            <div className="panel">
              <h2>Disabled subscriptions</h2>
              {data.disabledSubscriptions.length === 0 ? (
                <Empty title="No subscription is disabled" />
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th>Subscription</th>
                      <th>Why</th>
                      <th>Since</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.disabledSubscriptions.map((row) => (
                      <tr key={row.id}>
                        <td>
                          <Link to={`/subscriptions/${row.id}`}>{row.name}</Link>
                        </td>
                        <td>{row.disabledReason ?? 'disabled by an operator'}</td>
                        <td>
                          <Time value={row.disabledAt} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </div>
        </>
      )}
      <div className="panel">
        <div className="title-row">
          <h2>Queues</h2>
          <a href="/admin/queues" target="_blank" rel="noreferrer">
            Queue dashboard (bull-board) ↗
          </a>
        </div>
        <ErrorBox error={queues.error} />
        {queues.data && (
          <table>
            <thead>
              <tr>
                <th>Queue</th>
                {['waiting', 'active', 'delayed', 'failed', 'completed'].map((state) => (
                  <th key={state} className="number">
                    {state}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {queues.data.queues.map((queue) => (
                <tr key={queue.name}>
                  <td>{queue.name}</td>
                  {['waiting', 'active', 'delayed', 'failed', 'completed'].map((state) => (
                    <td key={state} className="number">
                      {queue.counts[state] ?? 0}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="hint">
          The dashboard asks for the admin key again (any user name, the key as password).
        </p>
      </div>
    </section>
  );
}

function sum<T>(buckets: T[], keys: (keyof T)[]): number {
  return buckets.reduce(
    (total, bucket) => total + keys.reduce((s, key) => s + Number(bucket[key]), 0),
    0,
  );
}

function Total({ label, value }: { label: string; value: number }) {
  return (
    <div className="card">
      <div className="card-value">{value.toLocaleString()}</div>
      <div className="card-label">{label}</div>
    </div>
  );
}

/** Stacked bars, one per bucket; the numbers are in each bar's title and in the legend. */
function Chart<T extends { at: string }>({
  buckets,
  series,
  label,
}: {
  buckets: T[];
  series: readonly { key: keyof T & string; label: string; className: string }[];
  label: string;
}) {
  const width = 600;
  const height = 160;
  const gap = 4;
  const totals = buckets.map((bucket) => series.reduce((s, one) => s + Number(bucket[one.key]), 0));
  const max = Math.max(1, ...totals);
  const barWidth = width / buckets.length - gap;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={label}>
        {buckets.map((bucket, index) => {
          let y = height;
          const x = index * (barWidth + gap);
          return (
            <g key={bucket.at}>
              <title>
                {`${formatTime(bucket.at)}: ${series.map((one) => `${one.label} ${Number(bucket[one.key])}`).join(', ')}`}
              </title>
              <rect x={x} y={0} width={barWidth} height={height} className="bar-bg" />
              {series.map((one) => {
                const value = Number(bucket[one.key]);
                const h = (value / max) * height;
                y -= h;
                return value > 0 ? (
                  <rect
                    key={one.key}
                    x={x}
                    y={y}
                    width={barWidth}
                    height={h}
                    className={one.className}
                  />
                ) : null;
              })}
              {(index === 0 ||
                index === buckets.length - 1 ||
                index === Math.floor(buckets.length / 2)) && (
                <text x={x + barWidth / 2} y={height + 14} textAnchor="middle" className="axis">
                  {new Date(bucket.at).toLocaleTimeString(undefined, {
                    hour: '2-digit',
                    minute: '2-digit',
                  })}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {series.map((one) => (
          <span key={one.key}>
            <i className={`swatch ${one.className}`} /> {one.label}{' '}
            <strong>{sum(buckets, [one.key])}</strong>
          </span>
        ))}
        <span className="muted">max {max} per bar</span>
      </figcaption>
    </figure>
  );
}
