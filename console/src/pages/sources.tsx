import { FormEvent, ReactNode, useState } from 'react';
import { api, ApiError } from '../api';
import { Link, navigate } from '../router';
import { PagedList } from '../lists';
import { Source } from '../types';
import { Empty, ErrorBox, Field, Loading, ShownOnce, Time, useApi, usePages } from '../ui';

/** The settings each installed kind declares (docs/api.md); another kind's are written as JSON. */
const SETTINGS: Record<
  string,
  { name: string; label: string; hint: string; list?: boolean; number?: boolean }[]
> = {
  jivo: [
    {
      name: 'allowedChannelIds',
      label: 'Allowed widget ids',
      hint: 'Comma-separated; empty: every widget.',
      list: true,
    },
    {
      name: 'enrichmentUrl',
      label: 'Reply enrichment URL',
      hint: 'Optional: asked for fields to add to the answer to Jivo.',
    },
    {
      name: 'enrichmentTimeoutMs',
      label: 'Enrichment timeout (ms)',
      hint: '100–10,000.',
      number: true,
    },
  ],
  'jivo-bot': [
    {
      name: 'allowedChannelIds',
      label: 'Allowed channel ids',
      hint: 'Comma-separated; empty: every channel.',
      list: true,
    },
  ],
  chatwoot: [
    {
      name: 'signingSecret',
      label: 'Signing secret',
      hint: 'The webhook secret Chatwoot shows; requests must then be signed. Write-only.',
    },
    {
      name: 'signatureHeaderPrefix',
      label: 'Signature header prefix',
      hint: 'A rebranded fork’s prefix instead of X-Chatwoot.',
    },
  ],
};

/** What to paste where, in the sender's own settings. */
const INSTRUCTIONS: Record<string, ReactNode> = {
  jivo: (
    <ol>
      <li>
        In Jivo, open the channel’s settings (Management → Channels → your website widget), then
        Integrations → Webhooks API.
      </li>
      <li>
        Paste the inbound URL as the webhook URL and save. Jivo then posts chat_accepted,
        chat_finished, offline_message… to it.
      </li>
      <li>Optionally list your widget ids here, so requests for other widgets are refused.</li>
    </ol>
  ),
  'jivo-bot': (
    <ol>
      <li>In Jivo, add a Bot API channel (Management → Channels → Bots → Bot API).</li>
      <li>Paste the inbound URL as the provider’s webhook endpoint and save.</li>
    </ol>
  ),
  chatwoot: (
    <ol>
      <li>In Chatwoot, open Settings → Integrations → Webhooks → Add new webhook.</li>
      <li>
        Paste the inbound URL, tick the events to send (conversations, messages, contacts) and save.
      </li>
      <li>
        Chatwoot then shows the webhook’s secret: put it in this source’s Signing secret, so
        unsigned or forged requests are refused.
      </li>
    </ol>
  ),
};

export function SourcesPage() {
  const pages = usePages<Source>('/api/sources');
  return (
    <section>
      <div className="title-row">
        <h1>Sources</h1>
        <Link to="/sources/new" className="button primary">
          New source
        </Link>
      </div>
      <PagedList
        pages={pages}
        empty={
          <Empty title="No sources yet">
            A source is an inbound URL for one Jivo or Chatwoot account.{' '}
            <Link to="/sources/new">Create one</Link> and paste its URL into the sender.
          </Empty>
        }
      >
        {(sources) => (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Inbound URL</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {sources.map((source) => (
                <tr key={source.id}>
                  <td>
                    <Link to={`/sources/${source.id}`}>{source.name}</Link>
                    {source.managed && <span className="tag">routes file</span>}
                  </td>
                  <td>{source.kind}</td>
                  <td className="clip">
                    <code>{source.url}</code>
                  </td>
                  <td>
                    <Time value={source.createdAt} />
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

type Values = Record<string, string>;

function settingsBody(
  kind: string,
  values: Values,
  initial: Values | null,
  local: Map<string, string[]>,
) {
  const body: Record<string, unknown> = {};
  const declared = SETTINGS[kind];
  if (!declared) {
    if (values.settings?.trim()) {
      try {
        Object.assign(body, JSON.parse(values.settings));
      } catch (error) {
        local.set('settings', [`not valid JSON: ${(error as Error).message}`]);
      }
    }
    return body;
  }
  for (const setting of declared) {
    const text = (values[setting.name] ?? '').trim();
    if (initial && text === (initial[setting.name] ?? '').trim()) continue;
    if (!text) {
      if (initial) body[setting.name] = null;
      continue;
    }
    body[setting.name] = setting.list
      ? text
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      : setting.number
        ? Number(text)
        : text;
  }
  return body;
}

function SettingsFields({
  kind,
  values,
  set,
  error,
}: {
  kind: string;
  values: Values;
  set(name: string, value: string): void;
  error: unknown;
}) {
  const problems = (field: string) => (error instanceof ApiError ? error.problemsOf(field) : []);
  const declared = SETTINGS[kind];
  if (!declared) {
    return (
      <Field
        label="Settings (JSON)"
        problems={problems('settings')}
        hint={`The settings the ${kind} plug-in declares.`}
      >
        {(props) => (
          <textarea
            {...props}
            rows={4}
            value={values.settings ?? ''}
            onChange={(event) => set('settings', event.target.value)}
          />
        )}
      </Field>
    );
  }
  return (
    <>
      {declared.map((setting) => (
        <Field
          key={setting.name}
          label={setting.label}
          hint={setting.hint}
          problems={problems(setting.name)}
        >
          {(props) => (
            <input
              {...props}
              name={setting.name}
              type={setting.name === 'signingSecret' ? 'password' : 'text'}
              autoComplete="off"
              value={values[setting.name] ?? ''}
              onChange={(event) => set(setting.name, event.target.value)}
            />
          )}
        </Field>
      ))}
    </>
  );
}

function Revealed({ source, title }: { source: Source; title: string }) {
  return (
    <section>
      <h1>{title}</h1>
      <p>These are shown this once: copy them now. Rotating the token makes a new URL.</p>
      <ShownOnce label="Inbound URL" value={source.url} />
      {source.enrichmentSecret && (
        <ShownOnce label="Enrichment secret" value={source.enrichmentSecret} />
      )}
      <h2>What to paste where</h2>
      {INSTRUCTIONS[source.kind] ?? (
        <p>Paste the inbound URL into the sender’s webhook settings.</p>
      )}
      {source.enrichmentSecret && (
        <p>
          Your enrichment endpoint verifies the router’s requests with the enrichment secret
          (Standard Webhooks signature).
        </p>
      )}
      <p>
        <Link to={`/sources/${source.id}`} className="button primary">
          Open {source.name}
        </Link>
      </p>
    </section>
  );
}

export function NewSourcePage() {
  const kinds = useApi<{ data: string[] }>('/api/sources/kinds');
  const [kind, setKind] = useState('');
  const [name, setName] = useState('');
  const [values, setValues] = useState<Values>({});
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Source | null>(null);
  const chosen = kind || kinds.data?.data[0] || '';
  if (created) return <Revealed source={created} title="Source created" />;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const local = new Map<string, string[]>();
    const settings = settingsBody(chosen, values, null, local);
    if (local.size) {
      setError(
        new ApiError(
          400,
          'validation_failed',
          'Fix the settings',
          [...local].map(([field, problems]) => ({ field, problems })),
        ),
      );
      return;
    }
    setError(null);
    api<Source>('POST', '/api/sources', { kind: chosen, name, ...settings }).then(
      setCreated,
      setError,
    );
  };
  const problems = (field: string) => (error instanceof ApiError ? error.problemsOf(field) : []);
  return (
    <section>
      <h1>New source</h1>
      <form onSubmit={submit} className="form" aria-label="Source" noValidate>
        <Field label="Kind" problems={problems('kind')}>
          {(props) => (
            <select
              {...props}
              name="kind"
              value={chosen}
              onChange={(event) => setKind(event.target.value)}
            >
              {(kinds.data?.data ?? []).map((value) => (
                <option key={value}>{value}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Name" problems={problems('name')}>
          {(props) => (
            <input
              {...props}
              name="name"
              required
              value={name}
              onChange={(event) => setName(event.target.value)}
              placeholder="Jivo main site"
            />
          )}
        </Field>
        <SettingsFields
          kind={chosen}
          values={values}
          set={(field, value) => setValues({ ...values, [field]: value })}
          error={error}
        />
        <ErrorBox error={error} />
        <button type="submit" className="primary">
          Create source
        </button>
      </form>
    </section>
  );
}

function valuesOf(source: Source): Values {
  const values: Values = {};
  for (const setting of SETTINGS[source.kind] ?? []) {
    const value = source[setting.name];
    values[setting.name] = Array.isArray(value)
      ? value.join(', ')
      : value === null || value === undefined
        ? ''
        : String(value);
  }
  return values;
}

export function SourcePage({ id }: { id: string }) {
  const source = useApi<Source>(`/api/sources/${encodeURIComponent(id)}`);
  if (source.error) return <ErrorBox error={source.error} />;
  if (!source.data) return <Loading />;
  return <SourceEditor key={source.data.updatedAt} source={source.data} reload={source.reload} />;
}

function SourceEditor({ source, reload }: { source: Source; reload(): void }) {
  const initial = valuesOf(source);
  const [name, setName] = useState(source.name);
  const [values, setValues] = useState<Values>(initial);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [rotated, setRotated] = useState<Source | null>(null);
  if (rotated) return <Revealed source={rotated} title="New inbound URL" />;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const local = new Map<string, string[]>();
    const body = {
      ...(name !== source.name && { name }),
      ...settingsBody(source.kind, values, initial, local),
    };
    setError(null);
    setSaved(false);
    api('PATCH', `/api/sources/${source.id}`, body).then(() => {
      setSaved(true);
      reload();
    }, setError);
  };
  const rotate = () => {
    if (!window.confirm('Make a new URL token? The current URL stops working within 5 seconds.'))
      return;
    api<Source>('POST', `/api/sources/${source.id}/rotate-token`).then(setRotated, setError);
  };
  const remove = () => {
    if (!window.confirm(`Delete ${source.name}? Its URL stops working.`)) return;
    api('DELETE', `/api/sources/${source.id}`).then(() => navigate('/sources'), setError);
  };
  const problems = (field: string) => (error instanceof ApiError ? error.problemsOf(field) : []);
  return (
    <section>
      <div className="title-row">
        <h1>{source.name}</h1>
        <div className="actions">
          <Link to={`/events?sourceId=${source.id}`} className="button">
            Events
          </Link>
          <button type="button" onClick={rotate}>
            Rotate token
          </button>
          <button type="button" className="danger" onClick={remove}>
            Delete
          </button>
        </div>
      </div>
      {saved && (
        <p className="notice ok" role="status">
          Saved.
        </p>
      )}
      {source.managed && (
        <p className="notice warn">
          Declared in the routes file (key <code>{source.managed.key}</code>): the next apply undoes
          changes made here.
        </p>
      )}
      <dl className="facts">
        <dt>Kind</dt>
        <dd>{source.kind}</dd>
        <dt>Inbound URL</dt>
        <dd>
          <code>{source.url}</code>{' '}
          <span className="hint">(the token is masked: rotate it to see a new one)</span>
        </dd>
        {'hasSigningSecret' in source && (
          <>
            <dt>Signing secret</dt>
            <dd>{source.hasSigningSecret ? 'set' : 'not set: requests are not verified'}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          <Time value={source.createdAt} />
        </dd>
      </dl>
      <form onSubmit={submit} className="form" aria-label="Edit source" noValidate>
        <Field label="Name" problems={problems('name')}>
          {(props) => (
            <input
              {...props}
              name="name"
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
          )}
        </Field>
        <SettingsFields
          kind={source.kind}
          values={values}
          set={(field, value) => setValues({ ...values, [field]: value })}
          error={error}
        />
        <ErrorBox error={error} />
        <button type="submit" className="primary">
          Save changes
        </button>
      </form>
      <h2>What to paste where</h2>
      {INSTRUCTIONS[source.kind] ?? (
        <p>Paste the inbound URL into the sender’s webhook settings.</p>
      )}
    </section>
  );
}
