import { checkTarget, isBlockedAddress } from './target-guard';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '[::1]',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a00:1',
    'fe80::1',
    'fd00::1',
    'ff02::1',
  ])('refuses %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    },
  );
});

describe('checkTarget', () => {
  it('refuses private literals, loopback names and other schemes', async () => {
    for (const url of [
      'http://127.0.0.1/hook',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost:3000/',
      'ftp://example.com/',
      'not a url',
    ]) {
      expect(await checkTarget(url, false)).toMatchObject({ ok: false });
    }
  });

  it('allows public literals, and anything when private targets are allowed', async () => {
    expect(await checkTarget('https://93.184.216.34/hook', false)).toEqual({ ok: true });
    expect(await checkTarget('http://127.0.0.1:9999/hook', true)).toEqual({ ok: true });
  });
});
