import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from './audit.service.ts';

/** The caller's address (proxy-aware per TRUST_PROXY) and user agent, for sessions and the audit log. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip ?? '', userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : '' };
}
