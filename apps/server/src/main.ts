import { join } from 'node:path';
import { type Config, ConfigError, loadConfig } from './config.ts';
import type { RunningServer } from './server.ts';

/**
 * Entry point: parse the configuration once, start tracing when asked (before any module it
 * instruments is loaded), start the chosen roles, stop cleanly on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kith: cannot start.\n${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  // A signal during start-up is remembered and acted on once the server is up, so that an
  // embedded Postgres being started is never left running behind a killed process.
  let server: RunningServer | undefined;
  let stopRequested: string | undefined;
  let stopping = false;
  let tracing: { shutdown(): Promise<void> } | undefined;
  const stop = (signal: string) => {
    stopRequested ??= signal;
    if (!server || stopping) return;
    stopping = true;
    const running = server;
    running.logger.info({ signal }, 'shutting down');
    running
      .stop()
      .then(() => tracing?.shutdown())
      .then(() => process.exit(0))
      .catch((err) => {
        running.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (config.otel.endpoint) {
    const { startTracing } = await import('./platform/observability/tracing.ts');
    tracing = startTracing(config);
  }
  const { startServer } = await import('./server.ts');
  server = await startServer(config, { embeddedDir: join(config.dataDir, 'postgres') });
  if (stopRequested) stop(stopRequested);
}

main().catch((err) => {
  process.stderr.write(`kith: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
