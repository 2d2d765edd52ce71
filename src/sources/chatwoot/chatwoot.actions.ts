import { CanonicalAction, PlatformActions, PlatformCall } from '../source-actions';
import { ChatwootSettings } from './chatwoot.settings';

/**
 * The account's application API (`/api/v1/accounts/{account_id}/conversations/{id}/…`), with
 * the source's `api_access_token`: an agent bot's token answers as the bot. The conversation id
 * is the per-account display id, which the canonical `conversation.externalId` holds.
 */
export const CHATWOOT_ACTIONS: PlatformActions<ChatwootSettings> = {
  capabilities: ['message', 'handoff', 'status', 'assignee', 'labels', 'typing'],

  refusal(action, settings) {
    const missing = (['apiBaseUrl', 'apiAccountId', 'apiAccessToken'] as const).filter(
      (field) => !settings[field],
    );
    if (missing.length > 0) {
      return `the source has no ${missing.join(', ')}: set them (PATCH /api/sources/:id) to answer on Chatwoot`;
    }
    if (action.kind === 'message' && action.private && action.buttons.length > 0) {
      return 'a private note cannot carry buttons: the contact never sees it';
    }
    return null;
  },

  calls(action, settings, conversation) {
    const base = `${(settings.apiBaseUrl ?? '').replace(/\/+$/, '')}/api/v1/accounts/${settings.apiAccountId}/conversations/${encodeURIComponent(conversation.externalId)}`;
    const call = (path: string, body: object, label = path): PlatformCall => ({
      url: `${base}/${path}`,
      headers: { api_access_token: settings.apiAccessToken ?? '' },
      body,
      label,
    });
    switch (action.kind) {
      case 'message':
        return [call('messages', messageBody(action))];
      case 'handoff':
        // An agent bot opening a pending conversation is Chatwoot's bot handoff; assigning (to
        // the agent, or to nobody) takes it from the bot.
        return [
          call('toggle_status', { status: 'open' }, 'toggle_status open'),
          call('assignments', { assignee_id: numeric(action.agentId) }, 'assignments agent'),
          ...(action.teamId === null
            ? []
            : [call('assignments', { team_id: numeric(action.teamId) }, 'assignments team')]),
        ];
      case 'status':
        return [
          call(
            'toggle_status',
            action.status === 'snoozed' && action.snoozedUntil
              ? {
                  status: 'snoozed',
                  snoozed_until: Math.floor(Date.parse(action.snoozedUntil) / 1000),
                }
              : { status: action.status },
            `toggle_status ${action.status}`,
          ),
        ];
      case 'assignee':
        return [
          ...(action.agentId !== null || action.teamId === null
            ? [call('assignments', { assignee_id: numeric(action.agentId) }, 'assignments agent')]
            : []),
          ...(action.teamId === null
            ? []
            : [call('assignments', { team_id: numeric(action.teamId) }, 'assignments team')]),
        ];
      case 'labels':
        return [call('labels', { labels: action.labels })];
      case 'typing':
        return [
          call(
            'toggle_typing_status',
            { typing_status: action.on ? 'on' : 'off' },
            `toggle_typing_status ${action.on ? 'on' : 'off'}`,
          ),
        ];
    }
  },
};

/** Buttons become an `input_select` message: the contact picks one, its `value` comes back. */
function messageBody(action: Extract<CanonicalAction, { kind: 'message' }>): object {
  const body = { content: action.text, message_type: 'outgoing', private: action.private };
  if (action.buttons.length === 0) return body;
  return {
    ...body,
    content_type: 'input_select',
    content_attributes: {
      items: action.buttons.map((button) => ({ title: button.text, value: button.id })),
    },
  };
}

/** Chatwoot ids are integers; a non-numeric id is sent as given, for Chatwoot to refuse. */
function numeric(id: string | null): number | string | null {
  return id !== null && /^[0-9]{1,15}$/.test(id) ? Number(id) : id;
}
