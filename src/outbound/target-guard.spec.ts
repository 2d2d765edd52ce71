import { LookupAddress } from 'node:dns';
import {
  checkTarget,
  checkTargetUrl,
  guardedLookup,
  isBlockedAddress,
  TargetRefusedError,
} from './target-guard';

function lookupWith(
  hostname: string,
  options: { all?: boolean },
): Promise<{ address: string | LookupAddress[]; family?: number }> {
  return new Promise((resolve, reject) =>
    guardedLookup(hostname, options, (error, address, family) =>
      error ? reject(error) : resolve({ address, family }),
    ),
  );
}

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
    '::127.0.0.1',
    '::7f00:1',
    '::a00:1',
    '::a9fe:a9fe',
    '::ffff:0:127.0.0.1',
    '::ffff:0:7f00:1',
    '0:0:0:0:0:ffff:a9fe:a9fe',
    '64:ff9b::127.0.0.1',
    '64:ff9b::7f00:1',
    '64:ff9b::c0a8:101',
    '64:ff9b:1::808:808',
    '64:ff9b:1:7f00:1::',
    '2002:7f00:1::',
    '2002:a00:1::1',
    '2002:a9fe:a9fe:1::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  ])('refuses %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows %s', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });
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

describe('checkTargetUrl', () => {
  it('refuses private IP literals and other schemes without resolving anything', () => {
    for (const url of [
      'http://127.0.0.1/hook',
      'http://2130706433/',
      'http://[::ffff:7f00:1]/',
      'http://[::127.0.0.1]/',
      'http://[::ffff:0:10.0.0.1]/',
      'http://[64:ff9b::169.254.169.254]/',
      'http://[64:ff9b:1::a00:1]/',
      'http://[2002:c0a8:101::1]/',
      'http://169.254.169.254/latest/meta-data',
      'ftp://example.com/',
      'not a url',
    ]) {
      expect(checkTargetUrl(url, false)).toMatchObject({ ok: false });
    }
  });

  it('leaves host names to the lookup, and allows private literals when told to', () => {
    expect(checkTargetUrl('http://localhost:3000/', false)).toEqual({ ok: true });
    expect(checkTargetUrl('https://93.184.216.34/hook', false)).toEqual({ ok: true });
    expect(checkTargetUrl('http://127.0.0.1:9999/hook', true)).toEqual({ ok: true });
    expect(checkTargetUrl('ftp://127.0.0.1/', true)).toMatchObject({ ok: false });
  });
});

describe('guardedLookup', () => {
  it('refuses a name that resolves to a private address, naming the address', async () => {
    const refusal = lookupWith('localhost', { all: true });
    await expect(refusal).rejects.toBeInstanceOf(TargetRefusedError);
    await expect(refusal).rejects.toMatchObject({
      code: 'ERR_TARGET_REFUSED',
      message: expect.stringMatching(/^localhost resolves to (127\.0\.0\.1|::1), a private/),
    });
  });

  it('passes public addresses on in the form asked for', async () => {
    expect(await lookupWith('8.8.8.8', { all: true })).toEqual({
      address: [{ address: '8.8.8.8', family: 4 }],
      family: undefined,
    });
    expect(await lookupWith('8.8.8.8', {})).toEqual({ address: '8.8.8.8', family: 4 });
  });
});
