import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/app-error';
import { Settings } from '../config/settings';
import { isAdminKey } from './admin-key.hook';

const IS_PUBLIC = 'isPublic';

/** Marks a controller or route that answers without the admin key (inbound webhooks, health). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * Every route needs `Authorization: Bearer <admin key>` unless marked @Public(). Deciding by the
 * matched handler, not the path, means no spelling of a URL (`/%61pi/…`) slips past.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  constructor(
    private readonly settings: Settings,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (!match) {
      throw new AppError('unauthorized', 'Missing admin key: send Authorization: Bearer <key>');
    }
    if (!isAdminKey(match[1], this.settings.ADMIN_API_KEYS))
      throw new AppError('unauthorized', 'Invalid admin key');
    return true;
  }
}
