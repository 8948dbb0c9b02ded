import type { Config } from '../../config.ts';
import '../http/auth-context.ts';
import type { ErrorReporter } from '../http/error-handler.ts';
import type { Logger } from './logger.ts';

export interface ErrorReporting {
  report: ErrorReporter;
  /** Sends what is still queued (bounded by `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

const noop: ErrorReporting = { report: () => {}, close: async () => {} };

/**
 * Sentry-compatible error reporting for unhandled 5xx errors when SENTRY_DSN is set; a no-op
 * otherwise. The SDK is loaded only then: it is large and the default start must stay fast.
 */
export async function createErrorReporting(
  config: Pick<Config, 'sentryDsn' | 'env'>,
  logger: Logger,
): Promise<ErrorReporting> {
  if (!config.sentryDsn) return noop;
  const Sentry = await import('@sentry/node');
  Sentry.init({
    dsn: config.sentryDsn,
    environment: config.env,
    // Tracing is OpenTelemetry's job (tracing.ts); Sentry only receives errors, and installs no
    // global handlers or module hooks of its own (uncaught errors are main.ts's business).
    enableOpenTelemetrySetup: false,
    enableRuntimeChannelInjection: false,
    defaultIntegrations: false,
  });
  logger.info('error reporting enabled');
  return {
    report(err, request) {
      Sentry.captureException(err, {
        tags: { request_id: request.id, route: request.routeOptions.url ?? 'unmatched' },
        extra: { method: request.method },
        ...(request.auth?.userId ? { user: { id: request.auth.userId } } : {}),
      });
    },
    async close(timeoutMs = 2000) {
      await Sentry.close(timeoutMs);
    },
  };
}
