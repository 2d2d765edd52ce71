import { FormEvent, useState } from 'react';
import { api, ApiError, query } from '../api';
import { Link, navigate } from '../router';
import { PagedList } from '../lists';
import { CANONICAL_EVENT_TYPES, Subscription, TestSendResult } from '../types';
import {
  Empty,
  ErrorBox,
  Field,
  Json,
  Loading,
  ShownOnce,
  Status,
  Time,
  useApi,
  usePages,
} from '../ui';
import { useSources } from './events';

export function SubscriptionsPage() {
  const pages = usePages<Subscription>('/api/subscriptions');
  return (
    <section>
      <div className="title-row">
        <h1>Subscriptions</h1>
        <Link to="/subscriptions/new" className="button primary">
          New subscription
        </Link>
      </div>
      <PagedList
        pages={pages}
        empty={
          <Empty title="No subscriptions yet">
            A subscription is where events go: a URL, the event types it wants, and optionally a
            filter and a transform. <Link to="/subscriptions/new">Create the first one</Link>.
          </Empty>
        }
      >
        {(subscriptions) => (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>URL</th>
                <th>Event types</th>
                <th>Format</th>
                <th>State</th>
                <th className="number">Dead streak</th>
              </tr>
            </thead>
            <tbody>
              {subscriptions.map((subscription) => (
                <tr key={subscription.id}>
                  <td>
                    <Link to={`/subscriptions/${subscription.id}`}>{subscription.name}</Link>
                    {subscription.managed && <span className="tag">routes file</span>}
                  </td>
                  <td className="clip">
                    <code>{subscription.url}</code>
                  </td>
                  <td>{subscription.eventTypes.join(', ')}</td>
                  <td>{subscription.payloadFormat}</td>
                  <td>
                    <Status value={subscription.enabled} />
                  </td>
                  <td className="number">{subscription.consecutiveDeadDeliveries}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PagedList>
    </section>
  );
}

interface FormState {
  name: string;
  url: string;
  eventTypes: string;
  sourceIds: string[];
  payloadFormat: string;
  filter: string;
  transform: string;
  headers: string;
  maxAttempts: string;
  schedule: string;
  timeoutMs: string;
  rateMax: string;
  ratePer: string;
  disableAfter: string;
  enabled: boolean;
}

const EMPTY_FORM: FormState = {
  name: '',
  url: '',
  eventTypes: 'message.created',
  sourceIds: [],
  payloadFormat: '',
  filter: '',
  transform: '',
  headers: '',
  maxAttempts: '',
  schedule: '',
  timeoutMs: '',
  rateMax: '',
  ratePer: '',
  disableAfter: '',
  enabled: true,
};

function formOf(subscription: Subscription): FormState {
  return {
    name: subscription.name,
    url: subscription.url,
    eventTypes: subscription.eventTypes.join(', '),
    sourceIds: subscription.sourceIds ?? [],
    payloadFormat: subscription.payloadFormat,
    filter: subscription.filter ? JSON.stringify(subscription.filter, null, 2) : '',
    transform: subscription.transform ?? '',
    headers: Object.entries(subscription.headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\n'),
    maxAttempts: subscription.retryPolicy.custom
      ? String(subscription.retryPolicy.maxAttempts)
      : '',
    schedule: subscription.retryPolicy.custom ? subscription.retryPolicy.schedule.join(', ') : '',
    timeoutMs: String(subscription.timeoutMs),
    rateMax: subscription.rateLimit ? String(subscription.rateLimit.max) : '',
    ratePer: subscription.rateLimit ? String(subscription.rateLimit.perSeconds) : '',
    disableAfter: String(subscription.disableAfterDeadDeliveries),
    enabled: subscription.enabled,
  };
}

type Body = Record<string, unknown>;

/** The request body the form says, each field as the API takes it; `local` collects what cannot be sent. */
function bodyOf(form: FormState, local: Map<string, string[]>): Body {
  const list = (text: string) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const number = (field: string, text: string) => {
    if (!text.trim()) return null;
    const value = Number(text);
    if (!Number.isFinite(value)) local.set(field, [`${field} must be a number`]);
    return value;
  };
  let filter: unknown = null;
  if (form.filter.trim()) {
    try {
      filter = JSON.parse(form.filter);
    } catch (error) {
      local.set('filter', [`filter is not valid JSON: ${(error as Error).message}`]);
    }
  }
  const headers: Record<string, string> = {};
  for (const line of form.headers.split('\n')) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) local.set('headers', [`"${line}" is not "Name: value"`]);
    else headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  const maxAttempts = number('retryPolicy.maxAttempts', form.maxAttempts);
  const schedule = form.schedule.trim() ? list(form.schedule).map(Number) : null;
  const rateMax = number('rateLimit.max', form.rateMax);
  const ratePer = number('rateLimit.perSeconds', form.ratePer);
  return {
    name: form.name,
    url: form.url,
    eventTypes: list(form.eventTypes),
    sourceIds: form.sourceIds.length ? form.sourceIds : null,
    payloadFormat: form.payloadFormat || undefined,
    filter,
    transform: form.transform.trim() ? form.transform : null,
    headers,
    retryPolicy:
      maxAttempts !== null || schedule
        ? { ...(maxAttempts !== null && { maxAttempts }), ...(schedule && { schedule }) }
        : null,
    timeoutMs: number('timeoutMs', form.timeoutMs),
    rateLimit: rateMax !== null || ratePer !== null ? { max: rateMax, perSeconds: ratePer } : null,
    disableAfterDeadDeliveries: number('disableAfterDeadDeliveries', form.disableAfter),
    enabled: form.enabled,
  };
}

function SubscriptionForm({
  initial,
  submitLabel,
  onSubmit,
}: {
  initial: FormState;
  submitLabel: string;
  onSubmit(body: Body, changed: (field: string) => boolean): Promise<void>;
}) {
  const [form, setForm] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [local, setLocal] = useState(new Map<string, string[]>());
  const [busy, setBusy] = useState(false);
  const sources = useSources();
  const problems = (field: string) => [
    ...(local.get(field) ?? []),
    ...(error instanceof ApiError ? error.problemsOf(field) : []),
  ];
  // Problems of an object as a whole (`rateLimit`), not of one of its fields.
  const wholeProblems = (field: string) =>
    error instanceof ApiError
      ? error.details.filter((detail) => detail.field === field).flatMap((d) => d.problems)
      : [];
  const set = (name: keyof FormState) => (event: { target: { value: string } }) =>
    setForm({ ...form, [name]: event.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = new Map<string, string[]>();
    const body = bodyOf(form, found);
    setLocal(found);
    if (found.size) return;
    const before = bodyOf(initial, new Map());
    const changed = (field: string) =>
      JSON.stringify(body[field]) !== JSON.stringify(before[field]);
    setBusy(true);
    setError(null);
    onSubmit(body, changed).then(
      () => setBusy(false),
      (failure: unknown) => {
        setBusy(false);
        setError(failure);
      },
    );
  };
  return (
    <form onSubmit={submit} className="form" aria-label="Subscription" noValidate>
      <Field label="Name" problems={problems('name')}>
        {(props) => (
          <input {...props} name="name" required value={form.name} onChange={set('name')} />
        )}
      </Field>
      <Field
        label="URL"
        problems={problems('url')}
        hint="Where events are POSTed, signed with Standard Webhooks."
      >
        {(props) => (
          <input
            {...props}
            name="url"
            type="url"
            required
            value={form.url}
            onChange={set('url')}
            placeholder="https://crm.example.com/hooks"
          />
        )}
      </Field>
      <Field
        label="Event types"
        problems={problems('eventTypes')}
        hint={
          <>
            Comma-separated; <code>*</code> stands for one segment (<code>message.*</code>), a lone{' '}
            <code>*</code> for all. Types: {CANONICAL_EVENT_TYPES.join(', ')}.
          </>
        }
      >
        {(props) => (
          <input
            {...props}
            name="eventTypes"
            value={form.eventTypes}
            onChange={set('eventTypes')}
          />
        )}
      </Field>
      <fieldset className={problems('sourceIds').length ? 'invalid' : ''}>
        <legend>Sources (none ticked: every source)</legend>
        {sources.length === 0 && <span className="muted">No sources yet.</span>}
        {sources.map((source) => (
          <label key={source.id} className="check">
            <input
              type="checkbox"
              checked={form.sourceIds.includes(source.id)}
              onChange={(event) =>
                setForm({
                  ...form,
                  sourceIds: event.target.checked
                    ? [...form.sourceIds, source.id]
                    : form.sourceIds.filter((id) => id !== source.id),
                })
              }
            />
            {source.name} <span className="muted">({source.kind})</span>
          </label>
        ))}
        {problems('sourceIds').map((problem) => (
          <div key={problem} className="problems">
            {problem}
          </div>
        ))}
      </fieldset>
      <Field label="Payload format" problems={problems('payloadFormat')}>
        {(props) => (
          <select
            {...props}
            name="payloadFormat"
            value={form.payloadFormat}
            onChange={set('payloadFormat')}
          >
            <option value="">
              Automatic (transformed when a transform is set, else canonical)
            </option>
            <option value="canonical">canonical</option>
            <option value="raw">raw (the body the source sent)</option>
            <option value="transformed">transformed</option>
          </select>
        )}
      </Field>
      <Field
        label="Filter (JSON)"
        problems={problems('filter')}
        hint={
          <>
            A MongoDB-style query on the canonical event, e.g.{' '}
            <code>{'{"message.text": {"$regex": "pedido", "$options": "i"}}'}</code>. Try it in the{' '}
            <Link to="/playground">playground</Link>.
          </>
        }
      >
        {(props) => (
          <textarea
            {...props}
            name="filter"
            rows={3}
            value={form.filter}
            onChange={set('filter')}
            spellCheck={false}
          />
        )}
      </Field>
      <Field
        label="Transform (JSONata)"
        problems={problems('transform')}
        hint="Shapes the body from the canonical event."
      >
        {(props) => (
          <textarea
            {...props}
            name="transform"
            rows={3}
            value={form.transform}
            onChange={set('transform')}
            spellCheck={false}
          />
        )}
      </Field>
      <Field
        label="Headers"
        problems={problems('headers')}
        hint="One per line: Name: value. Values are masked once saved."
      >
        {(props) => (
          <textarea
            {...props}
            name="headers"
            rows={2}
            value={form.headers}
            onChange={set('headers')}
            spellCheck={false}
          />
        )}
      </Field>
      <div className="row">
        <Field
          label="Max attempts"
          problems={[...problems('retryPolicy.maxAttempts'), ...wholeProblems('retryPolicy')]}
        >
          {(props) => (
            <input
              {...props}
              name="maxAttempts"
              inputMode="numeric"
              value={form.maxAttempts}
              onChange={set('maxAttempts')}
              placeholder="default 8"
            />
          )}
        </Field>
        <Field label="Retry schedule (seconds)" problems={problems('retryPolicy.schedule')}>
          {(props) => (
            <input
              {...props}
              name="schedule"
              value={form.schedule}
              onChange={set('schedule')}
              placeholder="5, 300, 1800"
            />
          )}
        </Field>
        <Field label="Timeout (ms)" problems={problems('timeoutMs')}>
          {(props) => (
            <input
              {...props}
              name="timeoutMs"
              inputMode="numeric"
              value={form.timeoutMs}
              onChange={set('timeoutMs')}
              placeholder="default"
            />
          )}
        </Field>
      </div>
      <div className="row">
        <Field
          label="Rate limit: at most"
          problems={[...problems('rateLimit.max'), ...wholeProblems('rateLimit')]}
        >
          {(props) => (
            <input
              {...props}
              name="rateMax"
              inputMode="numeric"
              value={form.rateMax}
              onChange={set('rateMax')}
              placeholder="none"
            />
          )}
        </Field>
        <Field label="per seconds" problems={problems('rateLimit.perSeconds')}>
          {(props) => (
            <input
              {...props}
              name="ratePer"
              inputMode="numeric"
              value={form.ratePer}
              onChange={set('ratePer')}
            />
          )}
        </Field>
        <Field
          label="Disable after dead deliveries"
          problems={problems('disableAfterDeadDeliveries')}
        >
          {(props) => (
            <input
              {...props}
              name="disableAfter"
              inputMode="numeric"
              value={form.disableAfter}
              onChange={set('disableAfter')}
              placeholder="default 10; 0 never"
            />
          )}
        </Field>
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={form.enabled}
          onChange={(event) => setForm({ ...form, enabled: event.target.checked })}
        />{' '}
        Enabled
      </label>
      <ErrorBox error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

/** Create: leave out what is empty, so the API's defaults apply. */
function createBody(body: Body): Body {
  return Object.fromEntries(
    Object.entries(body).filter(
      ([, value]) =>
        value !== null &&
        value !== undefined &&
        !(typeof value === 'object' && Object.keys(value).length === 0),
    ),
  );
}

export function NewSubscriptionPage() {
  const [created, setCreated] = useState<Subscription | null>(null);
  if (created) {
    return (
      <section>
        <h1>Subscription created</h1>
        <p>
          Your receiver verifies each request with this signing secret (Standard Webhooks:{' '}
          <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>).
          It is shown this once.
        </p>
        <ShownOnce label="Signing secret" value={created.secret ?? ''} />
        <p>
          <Link to={`/subscriptions/${created.id}`} className="button primary">
            Open {created.name}
          </Link>
        </p>
      </section>
    );
  }
  return (
    <section>
      <h1>New subscription</h1>
      <SubscriptionForm
        initial={EMPTY_FORM}
        submitLabel="Create subscription"
        onSubmit={async (body) =>
          setCreated(await api<Subscription>('POST', '/api/subscriptions', createBody(body)))
        }
      />
    </section>
  );
}

export function SubscriptionPage({ id }: { id: string }) {
  const subscription = useApi<Subscription>(`/api/subscriptions/${encodeURIComponent(id)}`);
  const [secret, setSecret] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [testType, setTestType] = useState('');
  const [testResult, setTestResult] = useState<TestSendResult | null>(null);
  const [round, setRound] = useState(0);
  if (subscription.error) return <ErrorBox error={subscription.error} />;
  if (!subscription.data) return <Loading />;
  const s = subscription.data;
  const act = <T,>(call: Promise<T>, then: (value: T) => void) => {
    setError(null);
    call.then(then, setError);
  };
  const toggle = () =>
    act(api('PATCH', `/api/subscriptions/${s.id}`, { enabled: !s.enabled }), () =>
      subscription.reload(),
    );
  const rotate = () => {
    if (
      !window.confirm(
        'Make a new signing secret? The old one keeps signing beside it for the grace period (24 h by default).',
      )
    )
      return;
    act(
      api<{ secret: string }>('POST', `/api/subscriptions/${s.id}/rotate-secret`, {}),
      (answer) => {
        setSecret(answer.secret);
        subscription.reload();
      },
    );
  };
  const remove = () => {
    if (!window.confirm(`Delete ${s.name} and its deliveries?`)) return;
    act(api('DELETE', `/api/subscriptions/${s.id}`), () => navigate('/subscriptions'));
  };
  const test = (event: FormEvent) => {
    event.preventDefault();
    setTestResult(null);
    act(
      api<TestSendResult>(
        'POST',
        `/api/subscriptions/${s.id}/test`,
        testType ? { eventType: testType } : {},
      ),
      setTestResult,
    );
  };
  return (
    <section>
      <div className="title-row">
        <h1>{s.name}</h1>
        <div className="actions">
          <Status value={s.enabled} />
          <button type="button" onClick={toggle}>
            {s.enabled ? 'Disable' : 'Enable'}
          </button>
          <button type="button" onClick={rotate}>
            Rotate secret
          </button>
          <Link to={`/deliveries${query({ subscriptionId: s.id })}`} className="button">
            Deliveries
          </Link>
          <Link to={`/playground${query({ subscriptionId: s.id })}`} className="button">
            Playground
          </Link>
          <button type="button" className="danger" onClick={remove}>
            Delete
          </button>
        </div>
      </div>
      <ErrorBox error={error} />
      {s.disabledReason && (
        <p className="notice warn">
          Disabled by the router <Time value={s.disabledAt} />: {s.disabledReason}. Enabling it
          re-drives nothing: re-drive its dead deliveries from{' '}
          <Link to={`/deliveries${query({ status: 'dead', subscriptionId: s.id })}`}>
            Deliveries
          </Link>
          .
        </p>
      )}
      {s.managed && (
        <p className="notice warn">
          Declared in the routes file (key <code>{s.managed.key}</code>): the next apply undoes
          changes made here.
        </p>
      )}
      {secret && <ShownOnce label="New signing secret" value={secret} />}
      {s.previousSecretExpiresAt && (
        <p className="hint">
          The previous secret signs too until <Time value={s.previousSecretExpiresAt} />.
        </p>
      )}
      <form className="panel" onSubmit={test} aria-label="Test send">
        <h2>Test send</h2>
        <p className="hint">
          POSTs a sample event through this subscription’s format, transform and signing now.
          Nothing is stored.
        </p>
        <div className="filters">
          <Field label="Sample event type">
            {(props) => (
              <select
                {...props}
                value={testType}
                onChange={(event) => setTestType(event.target.value)}
              >
                <option value="">The first type it accepts</option>
                {CANONICAL_EVENT_TYPES.map((type) => (
                  <option key={type}>{type}</option>
                ))}
              </select>
            )}
          </Field>
          <div className="filter-actions">
            <button type="submit">Send test</button>
          </div>
        </div>
        {testResult && (
          <div role="status" className={`notice ${testResult.succeeded ? 'ok' : 'warn'}`}>
            {testResult.succeeded ? 'Delivered' : 'Failed'}:{' '}
            {testResult.statusCode ? `HTTP ${testResult.statusCode}` : 'no response'} in{' '}
            {testResult.durationMs} ms{testResult.error && ` — ${testResult.error}`}
            {testResult.responseExcerpt && (
              <Json value={testResult.responseExcerpt} label="Response excerpt" />
            )}
          </div>
        )}
      </form>
      <h2>Settings</h2>
      {saved && (
        <p className="notice ok" role="status">
          Saved.
        </p>
      )}
      <SubscriptionForm
        key={`${s.updatedAt}-${round}`}
        initial={formOf(s)}
        submitLabel="Save changes"
        onSubmit={async (body, changed) => {
          const patch = Object.fromEntries(
            Object.keys(body)
              .filter(changed)
              .map((field) => [field, body[field]]),
          );
          if ('payloadFormat' in patch && patch.payloadFormat === undefined)
            delete patch.payloadFormat;
          if (Object.keys(patch).length) await api('PATCH', `/api/subscriptions/${s.id}`, patch);
          setSaved(true);
          setRound((value) => value + 1);
          subscription.reload();
        }}
      />
      <p className="hint">
        Created <Time value={s.createdAt} />, updated <Time value={s.updatedAt} />. Id{' '}
        <code>{s.id}</code>.
      </p>
    </section>
  );
}
