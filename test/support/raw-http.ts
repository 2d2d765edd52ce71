import { connect, Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte on a TCP socket, so no client normalizes the
 * request target (`http://x/admin`, `/%61dmin`, `/a/../b` reach the server as written).
 */
export function rawRequest(
  baseUrl: string,
  request: {
    method?: string;
    target: string;
    headers?: Record<string, string>;
    body?: string;
  },
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const body = request.body ?? '';
  const headers: Record<string, string> = {
    host: `${hostname}:${port}`,
    connection: 'close',
    ...(body || request.method !== 'GET'
      ? { 'content-length': String(Buffer.byteLength(body)) }
      : {}),
    ...request.headers,
  };
  const head = [
    `${request.method ?? 'GET'} ${request.target} HTTP/1.1`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error as Error);
      }
    });
    socket.write(`${head}\r\n\r\n${body}`);
  });
}

function parseResponse(bytes: Buffer): RawResponse {
  // latin1 keeps one character per byte, so chunk sizes count characters.
  const text = bytes.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) throw new Error(`No HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...headerLines] = text.slice(0, headEnd).split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  const rawBody = text.slice(headEnd + 4);
  const body = headers['transfer-encoding'] === 'chunked' ? unchunk(rawBody) : rawBody;
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: Buffer.from(body, 'latin1').toString('utf8'),
  };
}

function unchunk(text: string): string {
  let body = '';
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return body;
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** A connected socket that has written nothing yet, and whether the server has closed it. */
export function openSocket(baseUrl: string): Promise<{ socket: Socket; closed: Promise<string> }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    const closed = new Promise<string>((done) => socket.on('close', () => done(received)));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined);
      resolve({ socket, closed });
    });
  });
}
