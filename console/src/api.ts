/**
 * Every call goes through the admin API with the operator's key, as any client's would. The key
 * lives in sessionStorage only: it is gone when the tab closes.
 */
const KEY_STORAGE = 'webhook-router.admin-key';

export interface Problem {
  field: string;
  problems: string[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Problem[] = [],
  ) {
    super(message);
  }

  /** The problems of one field, nested ones included (`retryPolicy` gets `retryPolicy.maxAttempts`). */
  problemsOf(field: string): string[] {
    return this.details
      .filter((detail) => detail.field === field || detail.field.startsWith(`${field}.`))
      .flatMap((detail) => detail.problems);
  }
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

type Listener = () => void;
const listeners = new Set<Listener>();

export function adminKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function onKeyChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY_STORAGE);
  listeners.forEach((listener) => listener());
}

/** Keeps the key only once the API has accepted it. */
export async function signIn(key: string): Promise<void> {
  await request('GET', '/api/queues', undefined, key);
  sessionStorage.setItem(KEY_STORAGE, key);
  listeners.forEach((listener) => listener());
}

export function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const key = adminKey();
  if (!key) return Promise.reject(new ApiError(401, 'unauthorized', 'Not signed in'));
  return request<T>(method, path, body, key).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 401) signOut();
    throw error;
  });
}

async function request<T>(method: string, path: string, body: unknown, key: string): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, 'network', `The router did not answer: ${(error as Error).message}`);
  }
  const text = await response.text();
  const parsed: unknown = text ? safeJson(text) : null;
  if (!response.ok) {
    const problem = (parsed ?? {}) as { error?: string; message?: string; details?: Problem[] };
    throw new ApiError(
      response.status,
      problem.error ?? 'http_error',
      problem.message ?? `HTTP ${response.status}`,
      problem.details ?? [],
    );
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A query string of the values set, for list routes and for the page's own URL. */
export function query(values: Record<string, string | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}
