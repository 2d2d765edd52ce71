import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who made a request: an admin key, or a key an admin scoped to actions. */
export type Principal =
  { kind: 'admin' } | { kind: 'scoped'; keyId: string; name: string; sourceIds: string[] };

const ACTIONS_SCOPE = 'actionsScope';

/** Marks a route a key scoped to actions may call too (the action API); others need an admin key. */
export const ActionsScope = () => SetMetadata(ACTIONS_SCOPE, true);
export const ACTIONS_SCOPE_METADATA = ACTIONS_SCOPE;

type WithPrincipal = FastifyRequest & { principal?: Principal };

export function setPrincipal(request: FastifyRequest, principal: Principal): void {
  (request as WithPrincipal).principal = principal;
}

/** The principal the guard found (an admin when none was set, as on a route without the guard). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal =>
    context.switchToHttp().getRequest<WithPrincipal>().principal ?? { kind: 'admin' },
);

/** Who the action API records as having asked: `admin`, or the scoped key's id. */
export function principalId(principal: Principal): string {
  return principal.kind === 'admin' ? 'admin' : principal.keyId;
}
