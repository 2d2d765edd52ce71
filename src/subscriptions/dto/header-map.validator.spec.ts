import { headerMapProblems } from './header-map.validator';

describe('headerMapProblems', () => {
  it('accepts names that are tokens with values HTTP can carry, and masked values', () => {
    expect(
      headerMapProblems({
        Authorization: 'Bearer abc',
        'X-API-Key': "k!#$%&'*+.^_`|~-",
        'X-Latin': 'café',
        'X-Tabbed': 'a\tb',
        'X-Masked': '…6789',
      }),
    ).toEqual([]);
  });

  it.each([
    'Expect',
    'upgrade',
    'Keep-Alive',
    'TE',
    'Trailer',
    'Connection',
    'Transfer-Encoding',
    'Host',
    'Content-Length',
    'Proxy-Connection',
  ])('refuses the connection header %s, naming it', (name) => {
    expect(headerMapProblems({ [name]: 'x' })).toEqual([
      `header "${name}" belongs to the connection: a delivery cannot carry it`,
    ]);
  });

  it.each(['Content-Type', 'webhook-id', 'Webhook-Timestamp', 'webhook-signature'])(
    'refuses %s, which the router sets',
    (name) => {
      expect(headerMapProblems({ [name]: 'x' })).toEqual([`header "${name}" is set by the router`]);
    },
  );

  it.each(['Bad Name', 'X:Y', 'X-Ctl\u0001', 'Café', '', 'x'.repeat(101)])(
    'refuses the name %j, which is not a token',
    (name) => {
      expect(headerMapProblems({ [name]: 'x' })[0]).toMatch(
        new RegExp(
          `^header ${JSON.stringify(JSON.stringify(name)).slice(1, -1)} is not a header name`,
        ),
      );
    },
  );

  it.each(['a\u0001b', 'a\rb', 'a\nb', 'a\u007fb', 'smile 🙂', 'dots …'])(
    'refuses the value %j, naming its header',
    (value) => {
      expect(headerMapProblems({ 'X-Value': value })).toEqual([
        'header "X-Value" holds characters a header value cannot: control characters, or beyond U+00FF',
      ]);
    },
  );

  it('names each header at fault, a name given twice, and too many headers', () => {
    expect(headerMapProblems({ 'X-A': '1', Expect: 'x', 'x-a': '2', 'X-B': 3 })).toEqual([
      'header "Expect" belongs to the connection: a delivery cannot carry it',
      'header "x-a" is given twice',
      'header "X-B" must have a string value',
    ]);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`X-${i}`, 'v']));
    expect(headerMapProblems(many)).toEqual(['headers may set at most 50 headers']);
    expect(headerMapProblems(['x'])).toEqual(['headers must map header names to string values']);
  });
});
