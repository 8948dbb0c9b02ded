import { type Span, SpanKind } from '@opentelemetry/api';
import {
  parseCronItems,
  type Runner,
  run,
  runMigrations,
  type Task,
  type TaskList,
  type WorkerEvents,
  Logger as WorkerLogger,
} from 'graphile-worker';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import {
  asCarrier,
  contextFrom,
  inSpan,
  TRACE_FIELD,
  type TraceCarrier,
  tracingActive,
} from '../observability/trace-context.ts';
import type { JobPayloads, TaskName } from './queue.ts';

export type JobHandler<T extends TaskName> = (
  payload: JobPayloads[T],
  helpers: { jobId: string; attempts: number },
) => Promise<void>;

export type JobHandlers = { [T in TaskName]: JobHandler<T> };

export interface CronJob {
  task: TaskName;
  /** crontab syntax, e.g. `0 * * * *` */
  schedule: string;
}

function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    logger[method]({ component: 'worker', scope, ...meta }, message);
  });
}

/**
 * A job's payload without the trace context `enqueue` put in it: handlers never see `_trace`, whether
 * or not this process traces.
 */
export function splitTrace(raw: unknown): { payload: unknown; trace: TraceCarrier | undefined } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !(TRACE_FIELD in raw))
    return { payload: raw, trace: undefined };
  const { [TRACE_FIELD]: trace, ...payload } = raw as Record<string, unknown>;
  return { payload, trace: asCarrier(trace) };
}

/** Creates graphile-worker's schema; part of `migrate`, so the api role can enqueue without a worker. */
export async function migrateQueue(pool: pg.Pool, logger: Logger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger(logger) });
}

/** Runs the worker role: every task with one structured log line and metrics per job. */
export async function startWorker(options: {
  connectionString: string;
  logger: Logger;
  metrics: Metrics;
  concurrency: number;
  handlers: JobHandlers;
  cron: CronJob[];
  /** Listen to job events (job:success, job:error…) from before the first job runs. */
  events?: WorkerEvents;
}): Promise<{ stop(): Promise<void>; events: WorkerEvents }> {
  const { logger, metrics } = options;
  // The worker has a pool of its own so that jobs never starve requests of connections.
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.concurrency + 2 });
  let stopping = false;
  // once the worker stops, its connections closing under it (the database going down after it,
  // as the embedded one does) is the expected end, not a failure
  const onError = (err: Error) =>
    stopping
      ? logger.debug({ err, component: 'worker' }, 'worker connection closed while stopping')
      : logger.warn({ err, component: 'worker' }, 'worker connection failed');
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  const taskList: TaskList = {};
  for (const [name, handler] of Object.entries(options.handlers) as [TaskName, JobHandler<TaskName>][]) {
    const task: Task = async (raw, helpers) => {
      const { payload, trace } = splitTrace(raw);
      const run = async (span: Span | undefined) => {
        const started = performance.now();
        const traceId = span?.isRecording() ? span.spanContext().traceId : undefined;
        const base = {
          component: 'job',
          task: name,
          job_id: helpers.job.id,
          attempt: helpers.job.attempts,
          ...(traceId ? { trace_id: traceId } : {}),
        };
        try {
          await handler(payload as never, { jobId: helpers.job.id, attempts: helpers.job.attempts });
          metrics.jobs.inc({ task: name, outcome: 'ok' });
          logger.info(
            { ...base, status: 'ok', latency_ms: Math.round(performance.now() - started) },
            'job completed',
          );
        } catch (err) {
          metrics.jobs.inc({ task: name, outcome: 'error' });
          logger.error(
            { ...base, status: 'error', err, latency_ms: Math.round(performance.now() - started) },
            'job failed',
          );
          throw err;
        }
      };
      if (!tracingActive()) return run(undefined);
      // a child of the span that enqueued it (every attempt), or a trace of its own (cron, no context)
      return inSpan(
        `process ${name}`,
        {
          kind: SpanKind.CONSUMER,
          parent: contextFrom(trace),
          attributes: {
            'messaging.system': 'graphile-worker',
            'messaging.operation.type': 'process',
            'messaging.destination.name': name,
            'messaging.message.id': helpers.job.id,
            'kith.job.attempt': helpers.job.attempts,
          },
        },
        run,
      );
    };
    taskList[name] = task;
  }
  const runner: Runner = await run({
    pgPool: pool,
    concurrency: options.concurrency,
    taskList,
    parsedCronItems: parseCronItems(
      options.cron.map((c) => ({ task: c.task, match: c.schedule, identifier: c.task })),
    ),
    noHandleSignals: true,
    logger: workerLogger(logger),
    pollInterval: 2000,
    ...(options.events ? { events: options.events } : {}),
  });
  return {
    events: runner.events,
    async stop() {
      stopping = true;
      await runner.stop();
      await pool.end();
    },
  };
}
