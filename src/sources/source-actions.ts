/**
 * What a source plug-in declares to answer back on its platform: the actions its platform can
 * take (capabilities) and, for each canonical action, the platform's HTTP calls. Plug-ins stay
 * pure: they build requests, the router sends them (src/actions/).
 */

export const ACTION_KINDS = [
  'message',
  'handoff',
  'status',
  'assignee',
  'labels',
  'typing',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export const ACTION_STATUSES = ['open', 'pending', 'resolved', 'snoozed'] as const;
export type ActionConversationStatus = (typeof ACTION_STATUSES)[number];

export interface ActionButton {
  id: string;
  text: string;
}

/** An action on one conversation, as the action API takes it (validated, defaults filled in). */
export type CanonicalAction =
  | { kind: 'message'; text: string; buttons: ActionButton[]; private: boolean }
  | { kind: 'handoff'; agentId: string | null; teamId: string | null }
  | { kind: 'status'; status: ActionConversationStatus; snoozedUntil: string | null }
  | { kind: 'assignee'; agentId: string | null; teamId: string | null }
  | { kind: 'labels'; labels: string[] }
  | { kind: 'typing'; on: boolean };

/** The conversation an action is for, in the platform's own ids. */
export interface ActionConversation {
  externalId: string;
  /** The contact's native id on the source (Jivo `client_id`), when known. */
  contactExternalId: string | null;
}

/** One HTTP call to the platform. Always a JSON POST. */
export interface PlatformCall {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** What the call does, for the attempt log (`toggle_status open`). */
  label: string;
}

export interface ActionContext {
  /** The router's action id: stable across retries, so a platform that dedupes by id can. */
  actionId: string;
  now: Date;
}

/**
 * A platform's actions. `refusal` runs when the API takes the action and `calls` when the
 * worker sends it; both are pure.
 */
export interface PlatformActions<Settings extends object = object> {
  readonly capabilities: readonly ActionKind[];
  /**
   * Why this action cannot be sent on a source so configured (a credential missing, a feature
   * the platform lacks: buttons on a private note…); null when it can. Answered as a 409.
   */
  refusal(
    action: CanonicalAction,
    settings: Settings,
    conversation: ActionConversation,
  ): string | null;
  /** The calls that perform the action, made in order; each is retried on its own. */
  calls(
    action: CanonicalAction,
    settings: Settings,
    conversation: ActionConversation,
    context: ActionContext,
  ): PlatformCall[];
  /** Names, in the calls' URLs, what must never be stored or logged (a token in the path). */
  redactUrl?(url: string): string;
}
