import { type Client, OpenFeature } from '@openfeature/server-sdk';
import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { Broker } from '../../platform/broker/broker.ts';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import { type Evaluation, evaluateFlag, type FlagContext } from './evaluate.ts';
import { FLAGS_CHANNEL, FlagStore } from './flag-store.ts';
import { type FlagRow, FlagsRepository, type FlagWrite } from './flags.repository.ts';
import type { FlagBody } from './flags.schema.ts';
import { KithFlagProvider } from './flags-provider.ts';

export interface FlagsDeps {
  db: Kysely<DB>;
  broker: Broker;
  audit: AuditService;
  logger: Logger;
  refresh?: { fullRefreshMs: number; degradedRefreshMs: number };
}

const BOOLEAN_VARIANTS = { on: true, off: false };

/**
 * Feature flags through OpenFeature: `client` evaluates in process from the store; the admin
 * methods change Postgres in a transaction with their audit entry, then tell every instance.
 */
export class FlagsService {
  readonly client: Client;
  private readonly repo: FlagsRepository;
  private readonly store: FlagStore;

  constructor(private readonly deps: FlagsDeps) {
    this.repo = new FlagsRepository(deps.db);
    this.store = new FlagStore(this.repo, deps.broker, deps.logger, deps.refresh);
    // a domain per service: several apps in one process (tests) keep their own provider
    const domain = `kith-${uuidv7()}`;
    OpenFeature.setProvider(domain, new KithFlagProvider(this.store));
    this.client = OpenFeature.getClient(domain);
  }

  start(): Promise<void> {
    return this.store.start();
  }

  stop(): Promise<void> {
    return this.store.stop();
  }

  /** A boolean flag for a caller (false when the flag does not exist). */
  isEnabled(key: string, who: FlagContext = {}): Promise<boolean> {
    return this.client.getBooleanValue(key, false, {
      ...(who.targetingKey ? { targetingKey: who.targetingKey } : {}),
      ...(who.role ? { role: who.role } : {}),
    });
  }

  /** Every client-visible flag evaluated for the caller. */
  clientFlags(who: FlagContext): Record<string, Evaluation> {
    return Object.fromEntries(
      this.store
        .all()
        .filter((f) => f.clientVisible)
        .map((f) => [f.key, evaluateFlag(f, who)]),
    );
  }

  list(): Promise<FlagRow[]> {
    return this.repo.all();
  }

  /** Creates or changes a flag (fields left out keep their value, or take the defaults for a new one). */
  async put(actorId: string, key: string, body: FlagBody, meta: RequestMeta): Promise<FlagRow> {
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const before = await this.repo.find(key, trx);
      const next: FlagWrite = {
        description: body.description ?? before?.description ?? '',
        enabled: body.enabled ?? before?.enabled ?? true,
        variants: body.variants ? variantMap(body.variants) : (before?.variants ?? BOOLEAN_VARIANTS),
        defaultVariant: body.defaultVariant ?? before?.default_variant ?? 'off',
        roleRules: body.roleRules ?? before?.role_rules ?? [],
        rollout: body.rollout ?? before?.rollout ?? [],
        clientVisible: body.clientVisible ?? before?.client_visible ?? false,
      };
      validate(next);
      const saved = await this.repo.upsert(key, next, trx);
      await this.deps.audit.record(
        {
          action: before ? 'flag.update' : 'flag.create',
          actorId,
          target: { type: 'flag', id: key },
          meta,
          details: { before: before ? summary(before) : null, after: summary(saved) },
        },
        trx,
      );
      return saved;
    });
    await this.announce(key);
    return row;
  }

  async remove(actorId: string, key: string, meta: RequestMeta): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const before = await this.repo.find(key, trx);
      if (!before || !(await this.repo.delete(key, trx))) throw new AppError('NOT_FOUND', 'No such flag.');
      await this.deps.audit.record(
        {
          action: 'flag.delete',
          actorId,
          target: { type: 'flag', id: key },
          meta,
          details: { before: summary(before) },
        },
        trx,
      );
    });
    await this.announce(key);
  }

  /** This instance reloads at once; the others when the broker delivers (or within a second without it). */
  private async announce(key: string): Promise<void> {
    await this.deps.broker
      .publish(FLAGS_CHANNEL, { key })
      .catch((err) => this.deps.logger.warn({ err, key }, 'flag change not published; instances poll'));
    await this.store.reload();
  }
}

/** The request's variant list as the stored map; a name given twice is refused. */
function variantMap(list: { name: string; value: unknown }[]): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (const { name, value } of list) {
    if (Object.hasOwn(map, name)) throw new AppError('VALIDATION_FAILED', `Variant ${name} is given twice.`);
    map[name] = value;
  }
  return map;
}

function validate(flag: FlagWrite): void {
  const names = new Set(Object.keys(flag.variants));
  const unknown = [
    flag.defaultVariant,
    ...flag.roleRules.map((r) => r.variant),
    ...flag.rollout.map((r) => r.variant),
  ].filter((v) => !names.has(v));
  if (unknown.length > 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      `Unknown variant: ${unknown[0]}. Known: ${[...names].join(', ')}.`,
    );
  }
  const total = flag.rollout.reduce((sum, r) => sum + r.percent, 0);
  if (total > 100.0001)
    throw new AppError('VALIDATION_FAILED', `The rollout adds up to ${total} %, more than 100 %.`);
}

const summary = (row: FlagRow) => ({
  enabled: row.enabled,
  defaultVariant: row.default_variant,
  roleRules: row.role_rules,
  rollout: row.rollout,
  clientVisible: row.client_visible,
});
