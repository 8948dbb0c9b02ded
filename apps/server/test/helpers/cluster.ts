import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { createTestDatabase } from './database.ts';
import { type ServerProcess, spawnServer, stopServer } from './process.ts';
import { startRedisServer, type TestRedisServer } from './redis-server.ts';

export interface ClusterInstance {
  /** On top of the cluster's environment. */
  env?: Record<string, string>;
  /** e.g. `['--role', 'realtime']` (default: every role). */
  args?: string[];
}

export interface ClusterOptions<T extends readonly ClusterInstance[] = readonly ClusterInstance[]> {
  /** Names the shared data directory (`kith-<name>-…`). */
  name: string;
  /** Environment every instance gets, on top of the shared database, Redis, data dir and signing key. */
  env?: Record<string, string>;
  instances: T;
}

export interface Cluster<T extends readonly ClusterInstance[] = readonly ClusterInstance[]> {
  database: { url: string; name: string };
  redis: TestRedisServer;
  dataDir: string;
  /** The environment every instance was started with. */
  env: Record<string, string>;
  /** One per instance asked for, in that order. */
  servers: { [K in keyof T]: ServerProcess };
}

export interface ClusterUser {
  id: string;
  username: string;
  password: string;
  accessToken: string;
}

/**
 * Several real Kith processes sharing one PostgreSQL database (cloned from the migrated template),
 * one redis-server of the test's own and one token-signing key, started together. Everything is
 * stopped and removed after the file (afterAll): call it at the top level of a test file.
 */
export async function startCluster<const T extends readonly ClusterInstance[]>(
  options: ClusterOptions<T>,
): Promise<Cluster<T>> {
  const database = await createTestDatabase();
  const redis = await startRedisServer();
  const dataDir = await mkdtemp(join(tmpdir(), `kith-${options.name}-`));
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    JWT_SIGNING_KEY: generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    CHAT_FRIENDS_ONLY: 'false',
    ...options.env,
  };
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null) await stopServer(server, 'SIGKILL');
    await database.drop();
    await redis.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  servers.push(
    ...(await Promise.all(
      options.instances.map((instance) =>
        spawnServer({ env: { ...env, ...instance.env }, ...(instance.args ? { args: instance.args } : {}) }),
      ),
    )),
  );
  return { database, redis, dataDir, env, servers: servers as { [K in keyof T]: ServerProcess } };
}

/** Signs a new user up on `baseUrl` (a random username) and returns their id and access token. */
export async function signupOn(baseUrl: string): Promise<ClusterUser> {
  const username = `u_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
  const password = `pw-${randomUUID()}`;
  const res = await fetch(`${baseUrl}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, email: `${username}@example.com`, password }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { user: { id: string }; accessToken: string };
  return { id: body.user.id, username, password, accessToken: body.accessToken };
}
