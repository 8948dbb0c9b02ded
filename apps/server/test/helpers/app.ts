import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, expect, onTestFinished } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/platform/observability/logger.ts';
import { createPlatform, type Platform } from '../../src/platform/platform.ts';
import { buildServices, type Services } from '../../src/services.ts';
import { createTestDatabase } from './database.ts';

export interface TestApp {
  app: FastifyInstance;
  platform: Platform;
  /** The services the app was built on (the same instances its routes, gateway and jobs use). */
  services: Services;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Registers test-only routes (or hooks) on the built app before `ready()`. */
  extend?: (app: FastifyInstance, platform: Platform) => void | Promise<void>;
}

// One token-signing key and one media URL secret per test file (as a deployment has one per
// cluster): every app and every service graph a test builds signs and verifies alike.
const TEST_SIGNING_KEY = generateKeyPairSync('ed25519').privateKey.export({
  format: 'pem',
  type: 'pkcs8',
}) as string;
const TEST_MEDIA_SECRET = randomBytes(32).toString('base64url');

/**
 * The configuration tests run with: quiet, small pools, no load shedding (a loaded CI machine
 * must not turn test requests into 503s), a generous chat send deadline and the file's keys;
 * `env` overrides.
 */
export function testConfig(databaseUrl: string, env: Record<string, string> = {}) {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '5',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    MAX_EVENT_LOOP_UTILIZATION: '0',
    // a round trip on a loaded CI machine can take seconds; the tests of the deadline set their own
    CHAT_SEND_TIMEOUT_MS: '30000',
    // test users are unverified: the extra limit of unverified accounts is tested on its own
    RATE_LIMIT_UNVERIFIED_PER_HOUR: '0',
    JWT_SIGNING_KEY: TEST_SIGNING_KEY,
    MEDIA_SIGNING_SECRET: TEST_MEDIA_SECRET,
    ...env,
  });
}

/**
 * Builds the real application on its own cloned database, with `env` overriding the test defaults.
 * Registers its own teardown with afterAll; call it at the top level of a test file or in beforeAll.
 */
export async function buildTestApp(
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  // files the app writes (media, exports) go to a directory of its own, removed at close
  const dataDir = env.DATA_DIR ? undefined : await mkdtemp(join(tmpdir(), 'kith-test-data-'));
  const config = testConfig(database.url, { ...(dataDir ? { DATA_DIR: dataDir } : {}), ...env });
  const platform = await createPlatform({
    config,
    logger: createLogger(config.logLevel),
    databaseUrl: database.url,
  });
  const services = await buildServices(platform);
  const app = await buildApp(platform, { docs: false, services });
  await options.extend?.(app, platform);
  await app.ready();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await app.close();
      await platform.close();
    } finally {
      // whatever closing the app met (a Redis a test killed), its database and files go
      await database.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  };
  // Built inside a test: cleaned up when that test ends. At the top of a file: after the file.
  // (Built inside beforeAll: the caller must close it, as vitest ignores afterAll registered there.)
  if (expect.getState().currentTestName) onTestFinished(close);
  else afterAll(close);
  return { app, platform, services, databaseUrl: database.url, close };
}
