import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Platform } from '../../platform/platform.ts';
import { guardedLookup } from './endpoint-guard.ts';
import { pushMetrics } from './push.metrics.ts';
import { PushRepository } from './push.repository.ts';
import { PushDelivery } from './push-delivery.ts';
import { loadVapidKeys, type VapidKeys } from './vapid-keys.ts';

/** The push parts the jobs use (no flags, no presence): repository, keys, delivery. */
export function buildPushDelivery(platform: Platform) {
  const { config } = platform;
  const repo = new PushRepository(platform.db.primary);
  let keys: Promise<VapidKeys | undefined> | undefined;
  // loaded on first use, once; a failure is retried on the next use
  const vapid = () => {
    keys ??= loadVapidKeys(config).catch((err) => {
      keys = undefined;
      throw err;
    });
    return keys;
  };
  const agent = new Agent({
    // internal addresses refused at connect time too (DNS rebinding), unless a test allows them
    ...(config.push.allowPrivateEndpoints ? {} : { lookup: guardedLookup }),
    // read once at start: a missing file stops the process, as invalid configuration does
    ...(config.push.caFile ? { ca: [...rootCertificates, readFileSync(config.push.caFile, 'utf8')] } : {}),
  });
  const delivery = new PushDelivery({
    db: platform.db.primary,
    repo,
    vapid: async () => {
      const k = await vapid();
      return k && { ...k, subject: config.push.subject };
    },
    agent,
    allowInternal: config.push.allowPrivateEndpoints,
    metrics: pushMetrics(platform.metrics.registry),
    logger: platform.logger,
  });
  return { repo, vapid, delivery };
}
