import { Webhook } from 'standardwebhooks';
import { newSigningSecret } from '../common/secrets';
import { signWebhook } from './webhook-signer';

describe('signWebhook', () => {
  const body = JSON.stringify({ id: 'evt_1', type: 'message.created' });

  it('produces headers the standardwebhooks package verifies', () => {
    const secret = newSigningSecret();
    const headers = signWebhook([secret], 'evt_1', body);
    expect(headers['webhook-id']).toBe('evt_1');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('fails verification for another secret or a changed body', () => {
    const secret = newSigningSecret();
    const headers = signWebhook([secret], 'evt_1', body);
    expect(() => new Webhook(newSigningSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, { ...headers })).toThrow();
  });

  it('signs exactly as standardwebhooks does, non-ASCII bodies included', () => {
    const secret = newSigningSecret();
    const at = new Date('2026-11-21T12:00:00Z');
    const unicode = JSON.stringify({ text: 'Olá, 世界 🎉', name: 'José' });
    for (const payload of [body, unicode]) {
      expect(signWebhook([secret], 'evt_3', payload, at)['webhook-signature']).toBe(
        new Webhook(secret).sign('evt_3', at, payload),
      );
    }
  });

  it('signs the UTF-8 bytes of a body as it signs its text, again and again', () => {
    const secret = newSigningSecret();
    const at = new Date('2026-11-21T12:00:00Z');
    const unicode = JSON.stringify({ text: 'Olá, 世界 🎉', lone: '\ud800' });
    for (let round = 0; round < 3; round++) {
      for (const payload of [body, unicode]) {
        const expected = new Webhook(secret).sign('evt_4', at, payload);
        expect(signWebhook([secret], 'evt_4', payload, at)['webhook-signature']).toBe(expected);
        expect(signWebhook([secret], 'evt_4', Buffer.from(payload), at)['webhook-signature']).toBe(
          expected,
        );
      }
    }
  });

  it('signs with every secret during a rotation', () => {
    const oldSecret = newSigningSecret();
    const newSecret = newSigningSecret();
    const headers = signWebhook([newSecret, oldSecret], 'evt_2', body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, { ...headers })).not.toThrow();
  });
});
