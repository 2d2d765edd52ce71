import { jivoReplyEnrichment, MAX_CUSTOM_DATA_FIELDS } from './jivo.reply';

describe('jivoReplyEnrichment', () => {
  it('applies to chat_accepted and chat_updated only', () => {
    expect(jivoReplyEnrichment.appliesTo({ event_name: 'chat_accepted' })).toBe(true);
    expect(jivoReplyEnrichment.appliesTo({ event_name: 'chat_updated' })).toBe(true);
    expect(jivoReplyEnrichment.appliesTo({ event_name: 'chat_finished' })).toBe(false);
    expect(jivoReplyEnrichment.appliesTo({})).toBe(false);
  });

  it('builds the Jivo reply from camelCase or snake_case answers', () => {
    const fromCamel = jivoReplyEnrichment.toResponse({
      contactInfo: {
        name: 'John Smith',
        phone: '+14084987855',
        email: 'john@example.com',
        extra: 1,
      },
      customData: [{ title: 'Deals', content: '3 open', link: 'https://crm.example.com/deals' }],
      crmLink: 'https://crm.example.com/contacts/42',
      enableAssign: true,
    });
    expect(fromCamel).toEqual({
      result: 'ok',
      contact_info: { name: 'John Smith', phone: '+14084987855', email: 'john@example.com' },
      custom_data: [{ title: 'Deals', content: '3 open', link: 'https://crm.example.com/deals' }],
      crm_link: 'https://crm.example.com/contacts/42',
      enable_assign: true,
    });
    const fromSnake = jivoReplyEnrichment.toResponse({
      contact_info: { name: 'John Smith', phone: '+14084987855', email: 'john@example.com' },
      custom_data: [{ title: 'Deals', content: '3 open', link: 'https://crm.example.com/deals' }],
      crm_link: 'https://crm.example.com/contacts/42',
      enable_assign: true,
    });
    expect(fromSnake).toEqual(fromCamel);
  });

  it('drops what Jivo would not accept', () => {
    const reply = jivoReplyEnrichment.toResponse({
      contactInfo: { name: '', phone: { nested: true } },
      customData: [
        ...Array.from({ length: 15 }, (_, index) => ({ title: `f${index}`, content: `v${index}` })),
      ],
      crmLink: 'javascript:alert(1)',
      enableAssign: 'maybe',
    }) as Record<string, unknown>;
    expect(reply).toEqual({ result: 'ok', custom_data: expect.any(Array) });
    expect(reply.custom_data).toHaveLength(MAX_CUSTOM_DATA_FIELDS);
  });

  it('answers null when the answer is not a JSON object', () => {
    expect(jivoReplyEnrichment.toResponse(null)).toBeNull();
    expect(jivoReplyEnrichment.toResponse([1])).toBeNull();
    expect(jivoReplyEnrichment.toResponse('ok')).toBeNull();
  });
});
