import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';

/** One request a fake platform received, and what it answered. */
export interface PlatformRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  answered: number;
  /** Date.now() when it was read. */
  receivedAt: number;
}

/** A scripted answer, taking the place of the fake's own for one request. */
export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * A real HTTP server standing in for a platform's API: it checks each request against what the
 * platform's public documentation describes (path, method, auth header, body) and answers 400,
 * 401 or 404 as the platform would when it does not match. `script` answers the next requests
 * instead (a 429, a 500…), after the request was checked and recorded.
 */
abstract class FakePlatform {
  readonly requests: PlatformRequest[] = [];
  /** What the fake refused, and why: a spec expects it empty when the router spoke correctly. */
  readonly problems: string[] = [];
  url = '';
  private server: Server | null = null;
  private script: ScriptedAnswer[] = [];

  respondWith(script: ScriptedAnswer[]): this {
    this.script = [...script];
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any = null;
        let answer: ScriptedAnswer;
        try {
          body = text ? JSON.parse(text) : null;
          answer = this.answer(incoming.method ?? '', incoming.url ?? '', incoming.headers, body);
        } catch {
          answer = { status: 400, body: { error: 'body is not JSON' } };
        }
        if (answer.status === 400)
          this.problems.push(`${incoming.url}: ${JSON.stringify(answer.body)}`);
        const scripted = this.script.shift();
        const final = scripted ?? answer;
        this.requests.push({
          method: incoming.method ?? '',
          path: incoming.url ?? '',
          headers: incoming.headers,
          body,
          answered: final.status,
          receivedAt: Date.now(),
        });
        response.writeHead(final.status, {
          'content-type': 'application/json',
          ...(final.headers ?? {}),
        });
        response.end(JSON.stringify(final.body ?? {}));
      });
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((done) => this.server?.close(done));
    this.server?.closeAllConnections();
  }

  protected abstract answer(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: any,
  ): ScriptedAnswer;
}

const JIVO_MESSAGE_TYPES = ['TEXT', 'MARKDOWN', 'BUTTONS'];

/**
 * Jivo's Bot API endpoint (https://www.jivochat.com/docs/bot/): `POST
 * /webhooks/{provider_id}/{token}`, JSON events from the bot provider. Checks what every bot
 * event carries (`id`, `client_id`, `chat_id`, `event`), `BOT_MESSAGE`'s message (`TEXT` with
 * text; `BUTTONS` with a title and `buttons[{id, text}]`) and `INVITE_AGENT`.
 */
export class FakeJivoBotApi extends FakePlatform {
  constructor(
    readonly providerId = 'provider-7f3a',
    readonly token = 'jivo-bot-token-9d2c',
  ) {
    super();
  }

  get endpoint(): string {
    return `${this.url}/webhooks/${this.providerId}/${this.token}`;
  }

  /** The events Jivo accepted, in order. */
  get events(): any[] {
    return this.requests.filter((request) => request.answered === 200).map((r) => r.body);
  }

  protected answer(method: string, path: string, headers: IncomingHttpHeaders, body: any) {
    if (path !== `/webhooks/${this.providerId}/${this.token}`) {
      return { status: 404, body: { error: 'Incorrectly formed endpoint' } };
    }
    if (method !== 'POST') return { status: 405, body: { error: 'Method Not Allowed' } };
    const problems: string[] = [];
    if (!String(headers['content-type']).startsWith('application/json')) {
      problems.push('content-type must be application/json');
    }
    for (const field of ['id', 'client_id', 'chat_id', 'event']) {
      if (typeof body?.[field] !== 'string' || body[field] === '')
        problems.push(`${field} missing`);
    }
    if (body?.event === 'BOT_MESSAGE') problems.push(...messageProblems(body.message));
    else if (body?.event !== 'INVITE_AGENT') {
      return { status: 405, body: { error: `event ${body?.event} is not supported` } };
    }
    return problems.length > 0
      ? { status: 400, body: { error: problems.join('; ') } }
      : { status: 200, body: {} };
  }
}

function messageProblems(message: any): string[] {
  if (typeof message !== 'object' || message === null) return ['message missing'];
  const problems: string[] = [];
  if (!JIVO_MESSAGE_TYPES.includes(message.type)) problems.push(`message.type ${message.type}`);
  if (typeof message.timestamp !== 'number') problems.push('message.timestamp missing');
  if (message.type !== 'BUTTONS' && typeof message.text !== 'string') {
    problems.push('message.text missing');
  }
  if (message.type === 'BUTTONS') {
    if (typeof message.title !== 'string') problems.push('message.title missing');
    const buttons = message.buttons;
    if (
      !Array.isArray(buttons) ||
      buttons.length === 0 ||
      !buttons.every((b: any) => typeof b?.id === 'string' && typeof b?.text === 'string')
    ) {
      problems.push('message.buttons must be [{id, text}]');
    }
  }
  return problems;
}

/** One conversation as the fake Chatwoot keeps it. */
export interface FakeChatwootConversation {
  status: 'open' | 'pending' | 'resolved' | 'snoozed';
  assigneeId: number | null;
  teamId: number | null;
  /** The agent bot holding the conversation (ai assignee), if any. */
  botId: number | null;
  labels: string[];
  typing: 'on' | 'off';
  messages: any[];
}

const CHATWOOT_PATH =
  /^\/api\/v1\/accounts\/(\d+)\/conversations\/(\d+)\/(messages|toggle_status|assignments|labels|toggle_typing_status)$/;

/**
 * Chatwoot's application API for one account, authenticated by an agent bot's
 * `api_access_token` header (Chatwoot's own controllers: conversations/messages,
 * toggle_status, assignments, labels, toggle_typing_status). An agent bot opening a pending
 * conversation is a bot handoff; assigning an agent (or nobody) takes it from the bot.
 */
export class FakeChatwoot extends FakePlatform {
  readonly conversations = new Map<number, FakeChatwootConversation>();

  constructor(
    readonly accountId = 3,
    readonly botToken = 'cw-agent-bot-token-51f0',
    readonly botId = 7,
  ) {
    super();
  }

  /** A pending conversation held by the agent bot, as Chatwoot keeps one for a bot inbox. */
  addConversation(displayId: number): FakeChatwootConversation {
    const conversation: FakeChatwootConversation = {
      status: 'pending',
      assigneeId: null,
      teamId: null,
      botId: this.botId,
      labels: [],
      typing: 'off',
      messages: [],
    };
    this.conversations.set(displayId, conversation);
    return conversation;
  }

  protected answer(method: string, path: string, headers: IncomingHttpHeaders, body: any) {
    const match = CHATWOOT_PATH.exec(path);
    if (!match || method !== 'POST') return { status: 404, body: { error: 'Not Found' } };
    if (headers['api_access_token'] !== this.botToken) {
      return { status: 401, body: { error: 'Invalid Access Token' } };
    }
    const conversation = this.conversations.get(Number(match[2]));
    if (Number(match[1]) !== this.accountId || !conversation) {
      return { status: 404, body: { error: 'Resource could not be found' } };
    }
    switch (match[3]) {
      case 'messages':
        return this.message(conversation, body);
      case 'toggle_status':
        if (!['open', 'pending', 'resolved', 'snoozed'].includes(body?.status)) {
          return { status: 400, body: { error: `status ${body?.status}` } };
        }
        if (conversation.status === 'pending' && body.status === 'open') conversation.botId = null;
        conversation.status = body.status;
        return { status: 200, body: { payload: { success: true, current_status: body.status } } };
      case 'assignments':
        if (body && 'assignee_id' in body) {
          if (body.assignee_id !== null && typeof body.assignee_id !== 'number') {
            return { status: 400, body: { error: 'assignee_id must be a number or null' } };
          }
          conversation.assigneeId = body.assignee_id;
          conversation.botId = null;
          return { status: 200, body: {} };
        }
        if (body && typeof body.team_id === 'number') {
          conversation.teamId = body.team_id;
          return { status: 200, body: {} };
        }
        return { status: 400, body: { error: 'assignee_id or team_id' } };
      case 'labels':
        if (!Array.isArray(body?.labels)) return { status: 400, body: { error: 'labels' } };
        conversation.labels = body.labels;
        return { status: 200, body: { payload: body.labels } };
      case 'toggle_typing_status':
        if (!['on', 'off'].includes(body?.typing_status)) {
          return { status: 400, body: { error: 'typing_status' } };
        }
        conversation.typing = body.typing_status;
        return { status: 200, body: {} };
      default:
        return { status: 404, body: {} };
    }
  }

  private message(conversation: FakeChatwootConversation, body: any): ScriptedAnswer {
    const problems: string[] = [];
    if (typeof body?.content !== 'string' || body.content === '') problems.push('content');
    if (body?.message_type !== undefined && body.message_type !== 'outgoing') {
      problems.push('message_type');
    }
    if (body?.content_type === 'input_select') {
      const items = body.content_attributes?.items;
      if (
        !Array.isArray(items) ||
        !items.every(
          (item: any) => typeof item?.title === 'string' && typeof item?.value === 'string',
        )
      ) {
        problems.push('content_attributes.items must be [{title, value}]');
      }
    }
    if (problems.length > 0) return { status: 400, body: { error: problems.join('; ') } };
    conversation.messages.push(body);
    return { status: 200, body: { id: 90000 + conversation.messages.length, ...body } };
  }
}
