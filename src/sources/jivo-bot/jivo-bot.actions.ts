import { ActionContext, CanonicalAction, PlatformActions, PlatformCall } from '../source-actions';
import { JivoBotSettings } from './jivo-bot.settings';

/**
 * The Jivo Bot API, bot → Jivo (https://www.jivochat.com/docs/bot/): `BOT_MESSAGE` with a `TEXT`
 * or a `BUTTONS` message, and `INVITE_AGENT` to hand the chat to a human. Every event names the
 * chat and its client; the event id is the action's, so a resend is the same event.
 */
export const JIVO_BOT_ACTIONS: PlatformActions<JivoBotSettings> = {
  capabilities: ['message', 'handoff'],

  refusal(action, settings, conversation) {
    if (!settings.botApiEndpoint) {
      return 'the source has no botApiEndpoint: set it (PATCH /api/sources/:id) to answer on Jivo';
    }
    if (conversation.contactExternalId === null) {
      return "the conversation's client_id is not known yet: Jivo needs it on every bot event";
    }
    if (action.kind === 'message' && action.private) {
      return 'the Jivo Bot API has no private notes: every bot message reaches the client';
    }
    if (action.kind === 'handoff' && (action.agentId !== null || action.teamId !== null)) {
      return 'INVITE_AGENT invites any available agent: Jivo takes no agent or team to hand to';
    }
    return null;
  },

  calls(action, settings, conversation, context) {
    const call = (event: string, label: string, extra: object): PlatformCall => ({
      url: settings.botApiEndpoint ?? '',
      headers: {},
      label,
      body: {
        id: context.actionId,
        client_id: conversation.contactExternalId,
        chat_id: conversation.externalId,
        ...extra,
        event,
      },
    });
    switch (action.kind) {
      case 'message':
        return [call('BOT_MESSAGE', 'BOT_MESSAGE', { message: botMessage(action, context) })];
      case 'handoff':
        return [call('INVITE_AGENT', 'INVITE_AGENT', {})];
      case 'status':
      case 'assignee':
      case 'labels':
      case 'typing':
        return [];
    }
  },

  /** The endpoint's last segment is the bot's token. */
  redactUrl(url) {
    return url.replace(/\/[^/]+\/?$/, '/…');
  },
};

function botMessage(
  action: Extract<CanonicalAction, { kind: 'message' }>,
  context: ActionContext,
): object {
  const timestamp = Math.floor(context.now.getTime() / 1000);
  if (action.buttons.length === 0) return { type: 'TEXT', text: action.text, timestamp };
  return {
    type: 'BUTTONS',
    title: action.text,
    text: action.text,
    buttons: action.buttons.map((button) => ({ id: button.id, text: button.text })),
    timestamp,
  };
}
