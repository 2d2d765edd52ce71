import { CanonicalAction } from '../source-actions';
import { CHATWOOT_ACTIONS } from './chatwoot.actions';
import { ChatwootSettings } from './chatwoot.settings';

const settings: ChatwootSettings = {
  ...new ChatwootSettings(),
  apiBaseUrl: 'https://chat.example.com/',
  apiAccountId: '3',
  apiAccessToken: 'bot-token',
};
const conversation = { externalId: '1042', contactExternalId: '5821' };
const context = { actionId: 'act_01', now: new Date() };
const BASE = 'https://chat.example.com/api/v1/accounts/3/conversations/1042';

const calls = (action: CanonicalAction) =>
  CHATWOOT_ACTIONS.calls(action, settings, conversation, context).map((call) => [
    call.url.replace(BASE, ''),
    call.body,
  ]);

describe('Chatwoot application API actions', () => {
  it('authenticates every call with the api_access_token header', () => {
    const [call] = CHATWOOT_ACTIONS.calls(
      { kind: 'typing', on: true },
      settings,
      conversation,
      context,
    );
    expect(call.headers).toEqual({ api_access_token: 'bot-token' });
    expect(call.url).toBe(`${BASE}/toggle_typing_status`);
  });

  it('posts messages; buttons become an input_select', () => {
    expect(calls({ kind: 'message', text: 'Hi', buttons: [], private: true })).toEqual([
      ['/messages', { content: 'Hi', message_type: 'outgoing', private: true }],
    ]);
    expect(
      calls({ kind: 'message', text: 'Pick', buttons: [{ id: 'a', text: 'A' }], private: false }),
    ).toEqual([
      [
        '/messages',
        {
          content: 'Pick',
          message_type: 'outgoing',
          private: false,
          content_type: 'input_select',
          content_attributes: { items: [{ title: 'A', value: 'a' }] },
        },
      ],
    ]);
  });

  it('hands off: opens the conversation, then assigns (nobody, or the agent) and the team', () => {
    expect(calls({ kind: 'handoff', agentId: null, teamId: null })).toEqual([
      ['/toggle_status', { status: 'open' }],
      ['/assignments', { assignee_id: null }],
    ]);
    expect(calls({ kind: 'handoff', agentId: '12', teamId: '4' })).toEqual([
      ['/toggle_status', { status: 'open' }],
      ['/assignments', { assignee_id: 12 }],
      ['/assignments', { team_id: 4 }],
    ]);
  });

  it('sets status (snoozed with its time), assignee, labels and typing', () => {
    expect(calls({ kind: 'status', status: 'resolved', snoozedUntil: null })).toEqual([
      ['/toggle_status', { status: 'resolved' }],
    ]);
    expect(
      calls({ kind: 'status', status: 'snoozed', snoozedUntil: '2026-04-17T09:00:00.000Z' }),
    ).toEqual([['/toggle_status', { status: 'snoozed', snoozed_until: 1776416400 }]]);
    expect(calls({ kind: 'assignee', agentId: null, teamId: '4' })).toEqual([
      ['/assignments', { team_id: 4 }],
    ]);
    expect(calls({ kind: 'assignee', agentId: null, teamId: null })).toEqual([
      ['/assignments', { assignee_id: null }],
    ]);
    expect(calls({ kind: 'labels', labels: ['faq'] })).toEqual([['/labels', { labels: ['faq'] }]]);
    expect(calls({ kind: 'typing', on: false })).toEqual([
      ['/toggle_typing_status', { typing_status: 'off' }],
    ]);
  });

  it('refuses to act without the API settings, and buttons on a private note', () => {
    const action: CanonicalAction = { kind: 'labels', labels: [] };
    expect(CHATWOOT_ACTIONS.refusal(action, settings, conversation)).toBeNull();
    expect(
      CHATWOOT_ACTIONS.refusal(action, { ...settings, apiAccessToken: null }, conversation),
    ).toMatch(/no apiAccessToken/);
    expect(
      CHATWOOT_ACTIONS.refusal(
        { kind: 'message', text: 'x', buttons: [{ id: 'a', text: 'A' }], private: true },
        settings,
        conversation,
      ),
    ).toMatch(/private note cannot carry buttons/);
  });
});
