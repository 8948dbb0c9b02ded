import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../../../server/test/helpers/database.ts';
import { type ServerProcess, spawnServer, stopServer } from '../../../server/test/helpers/process.ts';

export interface RunningKith {
  /** http://localhost:<port> (a secure context for the browser, so the Secure cookie works). */
  url: string;
  server: ServerProcess;
  stop(): Promise<void>;
}

/**
 * A real Kith process (`src/main.ts`, all roles) on a free port, against a fresh database cloned
 * from the migrated template, serving the built web app from apps/web/dist. `extraEnv`: settings
 * a test file needs on top (e.g. a higher limit for unverified accounts).
 */
export async function startKith(extraEnv: Record<string, string> = {}): Promise<RunningKith> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'kith-e2e-'));
  const server = await spawnServer({
    env: {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      RATE_LIMIT_SIGNUP_IP: '1000',
      RATE_LIMIT_LOGIN_IP: '1000',
      ...extraEnv,
    },
  });
  const port = new URL(server.url).port;
  return {
    url: `http://localhost:${port}`,
    server,
    async stop() {
      await stopServer(server);
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
