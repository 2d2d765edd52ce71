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
    const headers = signWebhook([newSigningSecret()], 'evt_1', body);
    expect(() => new Webhook(newSigningSecret()).verify(body, { ...headers })).toThrow();
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
