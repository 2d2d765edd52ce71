import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/app-error';
import { Settings } from '../config/settings';
import { isAdminKey } from './admin-key.hook';
import { ApiKeysService } from './api-keys.service';
import { ACTIONS_SCOPE_METADATA, setPrincipal } from './principal';

const IS_PUBLIC = 'isPublic';

/** Marks a controller or route that answers without the admin key (inbound webhooks, health). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * Every route needs `Authorization: Bearer <admin key>` unless marked @Public(); a route marked
 * @ActionsScope() also takes a key scoped to actions. A valid scoped key anywhere else is
 * refused with 403: it is known, just not allowed there. Deciding by the matched handler, not
 * the path, means no spelling of a URL (`/%61pi/…`) slips past.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  constructor(
    private readonly settings: Settings,
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (!match) {
      throw new AppError('unauthorized', 'Missing admin key: send Authorization: Bearer <key>');
    }
    if (isAdminKey(match[1], this.settings.ADMIN_API_KEYS)) {
      setPrincipal(request, { kind: 'admin' });
      return true;
    }
    const scoped = await this.apiKeys.authenticate(match[1]);
    if (!scoped) throw new AppError('unauthorized', 'Invalid admin key');
    if (!this.reflector.getAllAndOverride<boolean>(ACTIONS_SCOPE_METADATA, targets)) {
      throw new AppError(
        'forbidden',
        'This key is scoped to the action API (/api/conversations/:id/…, /api/actions); this route needs an admin key',
      );
    }
    setPrincipal(request, scoped);
    return true;
  }
}
