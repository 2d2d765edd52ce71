import { loadSettings } from '../config/settings';
import { HttpSender } from '../outbound/http-sender';
import { SandboxUnavailableError, TransformSandboxPool } from './transform-sandbox';
import { DispatchRequest, WebhookDispatcher } from './webhook-dispatcher';

describe('WebhookDispatcher with transforms', () => {
  const settings = loadSettings({ TRANSFORM_TIMEOUT_MS: '100' });
  const sender = new HttpSender(settings);
  const send = jest.spyOn(sender, 'send');
  let pool: TransformSandboxPool;
  let dispatcher: WebhookDispatcher;

  const request = (transform: string): DispatchRequest => ({
    subscription: {
      url: 'http://127.0.0.1:9/never',
      headers: {},
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      previousSecret: null,
      previousSecretExpiresAt: null,
      payloadFormat: 'transformed',
      transform,
      timeoutMs: null,
    },
    messageId: 'evt_1',
    canonicalJson: JSON.stringify({ message: { text: 'Oi' } }),
    rawBody: null,
  });

  beforeEach(() => {
    send.mockClear();
    pool = new TransformSandboxPool({ size: 1, heapMb: 64 });
    dispatcher = new WebhookDispatcher(sender, pool, settings);
  });

  afterEach(() => pool.close());
  afterAll(() => sender.onModuleDestroy());

  it('ends the attempt unretried, with the reason, when the transform blows its budget', async () => {
    const outcome = await dispatcher.dispatch(request(`$match("${'a'.repeat(40)}!", /(a+)+$/)`));
    expect(outcome).toMatchObject({
      succeeded: false,
      retryable: false,
      statusCode: null,
      error: 'transform timed out after 100 ms',
    });
    expect(send).not.toHaveBeenCalled();
  });

  it('throws, making no attempt, when the router has no sandbox to run it in', async () => {
    await pool.close();
    await expect(dispatcher.dispatch(request('{"text": message.text}'))).rejects.toThrow(
      SandboxUnavailableError,
    );
    expect(send).not.toHaveBeenCalled();
  });
});
