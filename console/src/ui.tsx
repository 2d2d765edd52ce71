import { ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react';
import { api, ApiError } from './api';

/** A GET of the admin API, loaded again when `path` changes or `reload()` is called. */
export function useApi<T>(path: string | null) {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({
    loading: path !== null,
  });
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    api<T>('GET', path).then(
      (data) => live && setState({ data, loading: false }),
      (error: ApiError) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, round]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return { ...state, reload };
}

/** Calls `tick` every `ms` while `active`. */
export function useInterval(tick: () => void, ms: number, active = true) {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => saved.current(), ms);
    return () => clearInterval(timer);
  }, [ms, active]);
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
});
const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A time in the browser's time zone; the exact UTC instant on hover. */
export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <time dateTime={value} title={`${value} (shown in ${TIME_ZONE})`}>
      {DATE_TIME.format(new Date(value))}
    </time>
  );
}

export function formatTime(value: string): string {
  return DATE_TIME.format(new Date(value));
}

export function Json({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {typeof value === 'string' ? value : JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  const copy = () => {
    navigator.clipboard.writeText(text).then(
      () => setDone('copied'),
      () => setDone('failed'),
    );
  };
  return (
    <button type="button" className="small" onClick={copy}>
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Select and copy' : label}
    </button>
  );
}

/** A secret the API shows this once: the operator copies it now or makes a new one. */
export function ShownOnce({ label, value }: { label: string; value: string }) {
  return (
    <div className="secret">
      <div className="secret-label">{label}</div>
      <div className="secret-row">
        <code data-testid={`secret-${label}`}>{value}</code>
        <CopyButton text={value} />
      </div>
    </div>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const apiError = error instanceof ApiError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="error-box" role="alert">
      <strong>{apiError ? `${apiError.status || ''} ${apiError.code}`.trim() : 'Error'}:</strong>{' '}
      {message}
      {apiError && apiError.details.length > 0 && (
        <ul>
          {apiError.details.map((detail) => (
            <li key={detail.field}>
              <code>{detail.field}</code>: {detail.problems.join('; ')}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

export function Loading() {
  return (
    <div className="muted" aria-busy="true">
      Loading…
    </div>
  );
}

export function Status({ value }: { value: string | boolean | null }) {
  const text = value === true ? 'enabled' : value === false ? 'disabled' : (value ?? '—');
  return <span className={`status status-${text}`}>{text}</span>;
}

/** A labelled control with the API's problems for its field shown under it. */
export function Field({
  label,
  hint,
  problems = [],
  children,
}: {
  label: string;
  hint?: ReactNode;
  problems?: string[];
  children: (props: {
    id: string;
    'aria-invalid'?: boolean;
    'aria-describedby'?: string;
  }) => ReactNode;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', problems.length ? `${id}-problems` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div className={`field${problems.length ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        'aria-invalid': problems.length > 0 || undefined,
        'aria-describedby': described || undefined,
      })}
      {hint && (
        <div className="hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      {problems.length > 0 && (
        <ul className="problems" id={`${id}-problems`}>
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** "Load more" for the API's cursor pages. */
export function usePages<T>(path: string) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, setState] = useState<{ loading: boolean; error?: ApiError }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState({ loading: true });
    api<{ data: T[]; nextCursor: string | null }>('GET', path).then(
      (page) => {
        if (!live) return;
        setItems(page.data);
        setCursor(page.nextCursor);
        setState({ loading: false });
      },
      (error: ApiError) => live && setState({ loading: false, error }),
    );
    return () => {
      live = false;
    };
  }, [path, round]);
  const more = () => {
    if (!cursor) return;
    const separator = path.includes('?') ? '&' : '?';
    setState({ loading: true });
    api<{ data: T[]; nextCursor: string | null }>(
      'GET',
      `${path}${separator}cursor=${encodeURIComponent(cursor)}`,
    ).then(
      (page) => {
        setItems((previous) => [...previous, ...page.data]);
        setCursor(page.nextCursor);
        setState({ loading: false });
      },
      (error: ApiError) => setState({ loading: false, error }),
    );
  };
  return {
    items,
    hasMore: cursor !== null,
    more,
    reload: () => setRound((value) => value + 1),
    ...state,
  };
}

export function MoreButton({
  pages,
}: {
  pages: { hasMore: boolean; more(): void; loading: boolean };
}) {
  if (!pages.hasMore) return null;
  return (
    <button type="button" onClick={pages.more} disabled={pages.loading}>
      Load more
    </button>
  );
}

/** A local datetime-local value to ISO, or undefined. */
export function localToIso(value: string): string | undefined {
  return value ? new Date(value).toISOString() : undefined;
}

/** ISO to a datetime-local input's value in the browser's zone. */
export function isoToLocal(value: string | null): string {
  if (!value) return '';
  const date = new Date(value);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
