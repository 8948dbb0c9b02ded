import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform/platform.ts';

/**
 * Builds each module's service from the platform (each takes exactly what it uses) and registers
 * its routes under /api/v1.
 */
export async function registerModules(api: FastifyInstance, platform: Platform): Promise<void> {
  void api;
  void platform;
}
