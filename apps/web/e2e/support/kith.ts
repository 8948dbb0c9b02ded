import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../server/src/platform/db/embedded.ts';
import { createTestDatabase } from '../../../server/test/helpers/database.ts';
import { type ServerProcess, spawnServer, stopServer } from '../../../server/test/helpers/process.ts';

export interface RunningKith {
  /** http://localhost:<port> (a secure context for the browser, so the Secure cookie works). */
  url: string;
  /** Its database, for setting a scene the UI has no way to (a role given by an operator). */
  databaseUrl: string;
  server: ServerProcess;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Listen on a port chosen before the start and make `url` the server's PUBLIC_URL: for what
   * checks the browser's origin (WebAuthn's RP id and origin) or puts links in mail and notices.
   */
  publicUrl?: boolean;
}

/**
 * A real Kith process (`src/main.ts`, all roles) against a fresh database cloned from the migrated
 * template, serving the built web app from apps/web/dist. `extraEnv`: settings a test file needs on
 * top (e.g. a higher limit for unverified accounts).
 *
 * Every browser page of every engine comes from one IP here (127.0.0.1), so the per-IP limits are
 * raised: a fresh page loads the app and the service worker precaches every asset, each request
 * counted against the anonymous default limit (600 a minute) — two engines' journeys in a row
 * exceeded it, and the next screen's chunk or API call got 429 (the moderation journey's Firefox
 * "timeout opening the case").
 */
export async function startKith(
  extraEnv: Record<string, string> = {},
  options: StartOptions = {},
): Promise<RunningKith> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'kith-e2e-'));
  const port = options.publicUrl ? await freePort() : undefined;
  const server = await spawnServer({
    env: {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      RATE_LIMIT_SIGNUP_IP: '1000',
      RATE_LIMIT_LOGIN_IP: '1000',
      RATE_LIMIT_DEFAULT_PER_MINUTE: '100000',
      ...(port ? { PORT: String(port), PUBLIC_URL: `http://localhost:${port}` } : {}),
      ...extraEnv,
    },
  });
  return {
    url: `http://localhost:${new URL(server.url).port}`,
    databaseUrl: database.url,
    server,
    async stop() {
      await stopServer(server);
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
