import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './app-error';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body bytes exactly as received: signatures are computed over these. */
    rawBody?: Buffer;
    /** The same bytes decoded as UTF-8, as JSON.parse read them. */
    rawText?: string;
  }
}

/** Marks a webhook body that is not JSON, so the endpoint can answer 404 before 400. */
export class UnparseableBody {
  constructor(readonly reason: string) {}
}

const WEBHOOK_PATH = /^\/webhooks\//;

/**
 * One body parser for every content type: senders do not all label JSON as JSON. The raw
 * bytes are kept for signature checks. Admin routes fail at once on bad JSON; webhook routes
 * hand an UnparseableBody to the endpoint, which answers only after authenticating the URL.
 */
export function installJsonBodyParser(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit },
    (request: FastifyRequest, body: Buffer | string, done) => {
      const raw = typeof body === 'string' ? Buffer.from(body) : body;
      request.rawBody = raw;
      if (raw.length === 0) return done(null, undefined);
      request.rawText = raw.toString('utf8');
      try {
        done(null, JSON.parse(request.rawText));
      } catch (error) {
        const reason = `Body is not valid JSON: ${(error as Error).message}`;
        if (WEBHOOK_PATH.test(request.url)) return done(null, new UnparseableBody(reason));
        done(new AppError('invalid_json', reason));
      }
    },
  );
}

/** The body as JSON, or the text itself when it is not JSON. */
export function parseRaw(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    return rawBody;
  }
}
