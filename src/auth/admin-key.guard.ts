import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/app-error';
import { secretsEqual } from '../common/secrets';
import { Settings } from '../config/settings';

const PROTECTED_PREFIXES = ['/api/', '/admin/'];

/** Every `/api/*` and `/admin/*` route needs `Authorization: Bearer <admin key>`. */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  constructor(private readonly settings: Settings) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const path = request.url.split('?')[0];
    if (!PROTECTED_PREFIXES.some((prefix) => path.startsWith(prefix))) return true;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (!match) {
      throw new AppError('unauthorized', 'Missing admin key: send Authorization: Bearer <key>');
    }
    const given = match[1];
    // Check every key, so the time taken does not tell which one came close.
    const accepted = this.settings.ADMIN_API_KEYS.reduce(
      (found, key) => secretsEqual(given, key) || found,
      false,
    );
    if (!accepted) throw new AppError('unauthorized', 'Invalid admin key');
    return true;
  }
}
