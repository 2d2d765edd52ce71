// A small FAQ bot on the router's action API (docs/two-way.md). It is a subscription's endpoint:
// the router delivers each inbound `message.created` here; the bot answers through
// POST /api/conversations/:key/messages with buttons, hands the chat to a human when asked
// (…/handoff), and resolves it when the contact says goodbye (a message, then …/status).
//
//   ROUTER_URL=http://127.0.0.1:3000 ROUTER_API_KEY=key_….… WEBHOOK_SECRET=whsec_… \
//     node examples/faq-bot/bot.mjs            # PORT=4100 by default; 0 picks a free port
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const ROUTER_URL = (process.env.ROUTER_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const API_KEY = process.env.ROUTER_API_KEY ?? '';
const verifier = process.env.WEBHOOK_SECRET ? new Webhook(process.env.WEBHOOK_SECRET) : null;
const PORT = Number(process.env.PORT ?? 4100);

const MENU = [
  { id: 'hours', text: 'Opening hours' },
  { id: 'delivery', text: 'Delivery' },
  { id: 'operator', text: 'Talk to a person' },
];

const ANSWERS = {
  hours: 'We are open every day from 9:00 to 18:00.',
  delivery: 'Orders ship the next working day; delivery takes 2–4 days.',
};

/** What the contact chose: a pressed button (its id, or its text sent back) or words. */
function intentOf(event) {
  const buttonId = event.extensions?.['jivo-bot']?.buttonId;
  const text = (event.message?.text ?? '').trim().toLowerCase();
  const pressed = MENU.find(
    (button) => button.id === buttonId || button.text.toLowerCase() === text,
  );
  if (pressed) return pressed.id;
  if (/\b(operator|human|person|agent)\b/.test(text)) return 'operator';
  if (/\b(bye|goodbye|thanks|thank you)\b/.test(text)) return 'bye';
  if (/\b(hours|open)\b/.test(text)) return 'hours';
  if (/\b(delivery|shipping)\b/.test(text)) return 'delivery';
  return 'menu';
}

/** One action; the Idempotency-Key makes a redelivered event act once. */
async function act(conversation, action, body, idempotencyKey) {
  const response = await fetch(
    `${ROUTER_URL}/api/conversations/${encodeURIComponent(conversation)}/${action}`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
      },
      body: JSON.stringify(body),
    },
  );
  if (response.status !== 202) {
    throw new Error(`${action}: ${response.status} ${await response.text()}`);
  }
}

async function answer(event) {
  if (event.type !== 'message.created' || event.message?.direction !== 'inbound') return;
  // The router's conversation id; the canonical key names the conversation too.
  const key = event.conversation?.id ?? event.conversation?.key;
  if (!key) return;
  const intent = intentOf(event);
  const once = (what) => `${event.id}:${what}`;
  switch (intent) {
    case 'operator':
      await act(key, 'messages', { text: 'Connecting you to a person…' }, once('reply'));
      await act(key, 'handoff', {}, once('handoff'));
      return;
    case 'bye':
      await act(key, 'messages', { text: 'Glad to help. Goodbye!' }, once('reply'));
      await act(key, 'status', { status: 'resolved' }, once('resolve'));
      return;
    case 'hours':
    case 'delivery':
      await act(key, 'messages', { text: ANSWERS[intent], buttons: MENU }, once('reply'));
      return;
    default:
      await act(key, 'messages', { text: 'How can I help?', buttons: MENU }, once('reply'));
  }
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let event;
    try {
      if (verifier) verifier.verify(body, request.headers, { jsonParse: false });
      event = JSON.parse(body);
    } catch (error) {
      response.writeHead(401).end(String(error.message));
      return;
    }
    // Answered after the actions are queued: a failure makes the router deliver again, and the
    // idempotency keys keep the retry from acting twice.
    answer(event).then(
      () => response.writeHead(200).end('ok'),
      (error) => {
        console.error(`faq-bot: ${error.message}`);
        response.writeHead(500).end('action failed');
      },
    );
  });
});

server.listen(PORT, '127.0.0.1', () => {
  console.log(`faq-bot listening on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => server.close(() => process.exit(0)));
