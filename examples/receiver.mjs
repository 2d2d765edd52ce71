// A webhook receiver for the walk-throughs: prints each delivery and, when WEBHOOK_SECRET is set,
// checks its Standard Webhooks signature (a refused one is answered 401).
//   WEBHOOK_SECRET=whsec_… node examples/receiver.mjs [port, default 4000]
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const port = Number(process.argv[2] ?? 4000);
const verifier = process.env.WEBHOOK_SECRET ? new Webhook(process.env.WEBHOOK_SECRET) : null;

function signatureVerdict(body, headers) {
  if (!verifier) return 'signature not checked (no WEBHOOK_SECRET)';
  try {
    verifier.verify(body, headers, { jsonParse: false });
    return 'signature ok';
  } catch (error) {
    return `signature refused: ${error.message}`;
  }
}

createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const verdict = signatureVerdict(body, request.headers);
    console.log(
      `${request.method} ${request.url} webhook-id=${request.headers['webhook-id']}: ${verdict}`,
    );
    console.log(`  ${body.length > 400 ? `${body.slice(0, 400)}…` : body}`);
    response.writeHead(verdict.startsWith('signature refused') ? 401 : 200).end('ok');
  });
}).listen(port, '127.0.0.1', () => console.log(`Receiving on http://127.0.0.1:${port}`));
