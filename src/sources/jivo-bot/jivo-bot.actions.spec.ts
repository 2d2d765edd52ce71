import { ActionConversation, CanonicalAction } from '../source-actions';
import { JIVO_BOT_ACTIONS } from './jivo-bot.actions';
import { JivoBotSettings } from './jivo-bot.settings';

const ENDPOINT = 'https://bot.jivosite.com/webhooks/provider-1/secret-token';
const settings = (endpoint: string | null = ENDPOINT): JivoBotSettings => ({
  ...new JivoBotSettings(),
  botApiEndpoint: endpoint,
});
const conversation: ActionConversation = { externalId: '2037', contactExternalId: '1233' };
const context = { actionId: 'act_01', now: new Date('2026-04-16T14:05:40Z') };
const message = (extra: Partial<Extract<CanonicalAction, { kind: 'message' }>> = {}) =>
  ({ kind: 'message', text: 'Hi', buttons: [], private: false, ...extra }) as CanonicalAction;

describe('Jivo Bot API actions', () => {
  it('can send messages and hand off, nothing else', () => {
    expect(JIVO_BOT_ACTIONS.capabilities).toEqual(['message', 'handoff']);
  });

  it('sends a text as BOT_MESSAGE TEXT to the endpoint, the event id being the action id', () => {
    expect(JIVO_BOT_ACTIONS.calls(message(), settings(), conversation, context)).toEqual([
      {
        url: ENDPOINT,
        headers: {},
        label: 'BOT_MESSAGE',
        body: {
          id: 'act_01',
          client_id: '1233',
          chat_id: '2037',
          message: { type: 'TEXT', text: 'Hi', timestamp: 1776348340 },
          event: 'BOT_MESSAGE',
        },
      },
    ]);
  });

  it('sends buttons as a BUTTONS message with a title and buttons[{id, text}]', () => {
    const [call] = JIVO_BOT_ACTIONS.calls(
      message({ text: 'Pick one', buttons: [{ id: 'a', text: 'A' }] }),
      settings(),
      conversation,
      context,
    );
    expect((call.body as any).message).toEqual({
      type: 'BUTTONS',
      title: 'Pick one',
      text: 'Pick one',
      buttons: [{ id: 'a', text: 'A' }],
      timestamp: 1776348340,
    });
  });

  it('hands off with INVITE_AGENT', () => {
    const handoff: CanonicalAction = { kind: 'handoff', agentId: null, teamId: null };
    expect(JIVO_BOT_ACTIONS.calls(handoff, settings(), conversation, context)[0].body).toEqual({
      id: 'act_01',
      client_id: '1233',
      chat_id: '2037',
      event: 'INVITE_AGENT',
    });
  });

  it('refuses what Jivo cannot do, or cannot do yet', () => {
    const refusal = (action: CanonicalAction, given = settings(), talk = conversation) =>
      JIVO_BOT_ACTIONS.refusal(action, given, talk);
    expect(refusal(message())).toBeNull();
    expect(refusal(message(), settings(null))).toMatch(/no botApiEndpoint/);
    expect(refusal(message(), settings(), { ...conversation, contactExternalId: null })).toMatch(
      /client_id/,
    );
    expect(refusal(message({ private: true }))).toMatch(/no private notes/);
    expect(refusal({ kind: 'handoff', agentId: '5', teamId: null })).toMatch(/any available agent/);
  });

  it('keeps the token out of what is stored', () => {
    expect(JIVO_BOT_ACTIONS.redactUrl!(ENDPOINT)).toBe(
      'https://bot.jivosite.com/webhooks/provider-1/…',
    );
  });
});
