/** One answer of the admin API: its status and its JSON body (null when empty). */
export interface AdminAnswer {
  status: number;
  body: any;
}

/**
 * The admin API of one running router, called with a Bearer key: used by the in-process e2e
 * app, the e2e specs that start `node dist/main.js`, the fault harness and the benchmarks.
 */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly adminKey: string,
  ) {}

  /** JSON in and out, whatever the status. */
  async request(method: string, path: string, body?: unknown): Promise<AdminAnswer> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** The body of a 2xx answer; any other status throws with the answer's text. */
  async expectOk<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.request(method, path, body);
    if (answer.status < 200 || answer.status >= 300) {
      throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return answer.body as T;
  }

  /** Whether `path` answers 200 within two seconds: false while the router is not listening. */
  answers(path: string): Promise<boolean> {
    return answersOk(`${this.baseUrl}${path}`, { authorization: `Bearer ${this.adminKey}` });
  }
}

/** Whether `url` answers 200 within two seconds; a refused or failed request is a no. */
export async function answersOk(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(2_000) }).catch(
    () => null,
  );
  await response?.body?.cancel();
  return response?.status === 200;
}
