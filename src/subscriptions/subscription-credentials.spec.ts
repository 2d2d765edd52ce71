import {
  maskHeaders,
  maskHeaderValue,
  maskUrlCredentials,
  unmaskHeaders,
  unmaskUrl,
} from './subscription-credentials';

describe('subscription credentials', () => {
  it.each([
    ['Bearer crm-live-token-0123456789', '…6789'],
    ['0123456789abcdef', '…cdef'],
    ['0123456789abcde', '…'],
    ['acme', '…'],
    ['', '…'],
  ])('masks the header value %j as %j', (value, masked) => {
    expect(maskHeaderValue(value)).toBe(masked);
  });

  it.each([
    ['https://user:pass@crm.example.com/hook?x=1', 'https://…:…@crm.example.com/hook?x=1'],
    ['https://token@crm.example.com/hook', 'https://…@crm.example.com/hook'],
    ['https://a%40b:p@ss@crm.example.com/', 'https://…:…@crm.example.com/'],
    ['https://crm.example.com/hook?mail=a@b.c', 'https://crm.example.com/hook?mail=a@b.c'],
    ['https://crm.example.com/a@b', 'https://crm.example.com/a@b'],
  ])('masks the userinfo of %s', (url, masked) => {
    expect(maskUrlCredentials(url)).toBe(masked);
  });

  it('puts back the value a masked header masks, names matched without case', () => {
    const current = { Authorization: 'Bearer crm-live-token-0123456789', 'X-Tenant': 'acme' };
    expect(
      unmaskHeaders({ authorization: '…6789', 'X-Tenant': 'other', 'X-New': 'n' }, current),
    ).toEqual({
      headers: { authorization: current.Authorization, 'X-Tenant': 'other', 'X-New': 'n' },
      problems: [],
    });
    expect(unmaskHeaders(maskHeaders(current), current).headers).toEqual(current);
  });

  it('names a masked header value that masks nothing current', () => {
    const current = { Authorization: 'Bearer crm-live-token-0123456789' };
    const { problems } = unmaskHeaders({ Authorization: '…0000', 'X-New': '…' }, current);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^header "Authorization" holds a masked value/);
    expect(problems[1]).toMatch(/^header "X-New" holds a masked value/);
  });

  it('puts back masked URL credentials, and refuses masks of credentials that do not exist', () => {
    const current = 'https://user:pass@crm.example.com/hook';
    expect(unmaskUrl('https://…:…@crm.example.com/v2', current)).toEqual({
      url: 'https://user:pass@crm.example.com/v2',
    });
    expect(unmaskUrl('https://new:secret@crm.example.com/', current)).toEqual({
      url: 'https://new:secret@crm.example.com/',
    });
    expect(unmaskUrl('https://…@crm.example.com/', current).problem).toMatch(/masked/);
    expect(unmaskUrl('https://…:…@crm.example.com/', 'https://crm.example.com/').problem).toMatch(
      /masked/,
    );
    expect(unmaskUrl('https://…:…@crm.example.com/', null).problem).toMatch(/masked/);
  });
});
