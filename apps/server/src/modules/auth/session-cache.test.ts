import { describe, expect, it } from 'vitest';
import type { Broker, BrokerHandler } from '../../platform/broker/broker.ts';
import {
  SESSION_REVOKED_CHANNEL,
  SessionCache,
  type SessionState,
  USER_CHANGED_CHANNEL,
} from './session-cache.ts';

/** A broker whose health the test sets, and which drops messages while unhealthy. */
class FakeBroker implements Broker {
  healthy = true;
  readonly handlers = new Map<string, BrokerHandler[]>();
  async publish(channels: string | readonly string[], message: unknown) {
    if (!this.healthy) return;
    for (const channel of [channels].flat()) {
      for (const h of this.handlers.get(channel) ?? []) h(message, JSON.stringify(message));
    }
  }
  async subscribe(channel: string, handler: BrokerHandler) {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
    return async () => {};
  }
  async close() {}
}

function setup() {
  let clock = 1_000_000;
  const truth = new Map<string, SessionState>([
    [
      's1',
      {
        userId: 'u1',
        role: 'user',
        revoked: false,
        banned: false,
        emailVerified: true,
        expiresAt: Number.MAX_SAFE_INTEGER,
      },
    ],
    [
      's2',
      {
        userId: 'u1',
        role: 'user',
        revoked: false,
        banned: false,
        emailVerified: true,
        expiresAt: Number.MAX_SAFE_INTEGER,
      },
    ],
  ]);
  let loads = 0;
  const broker = new FakeBroker();
  const cache = new SessionCache({
    broker,
    logger: { warn: () => {} },
    now: () => clock,
    load: async (id) => {
      loads += 1;
      const state = truth.get(id);
      return state ? { ...state } : undefined;
    },
  });
  return {
    cache,
    broker,
    truth,
    loads: () => loads,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('SessionCache', () => {
  it('serves from memory within the TTL and reloads after it', async () => {
    const s = setup();
    await s.cache.start();
    await s.cache.get('s1');
    await s.cache.get('s1');
    expect(s.loads()).toBe(1);
    s.advance(30_000);
    await s.cache.get('s1');
    expect(s.loads()).toBe(2);
  });

  it('drops a session on a revocation message and a user on a user-changed message', async () => {
    const s = setup();
    await s.cache.start();
    await s.cache.get('s1');
    await s.cache.get('s2');
    s.truth.get('s1')!.revoked = true;
    await s.broker.publish(SESSION_REVOKED_CHANNEL, { sessionId: 's1' });
    expect((await s.cache.get('s1'))?.revoked).toBe(true);
    s.truth.get('s2')!.role = 'admin';
    await s.broker.publish(USER_CHANGED_CHANNEL, { userId: 'u1' });
    expect((await s.cache.get('s2'))?.role).toBe('admin');
  });

  it('trusts a live entry for at most a second while the broker is unhealthy', async () => {
    const s = setup();
    await s.cache.start();
    await s.cache.get('s1');
    s.broker.healthy = false;
    // an entry cached while messages flowed is not trusted once they may be lost
    s.truth.get('s1')!.revoked = true;
    await s.cache.sessionRevoked('s1'); // lost: the broker is down (the local drop still happens)
    expect((await s.cache.get('s1'))?.revoked).toBe(true);

    s.truth.get('s1')!.revoked = false; // (a fresh live session for the next step)
    s.truth.set('s3', {
      userId: 'u3',
      role: 'user',
      revoked: false,
      banned: false,
      emailVerified: true,
      expiresAt: Number.MAX_SAFE_INTEGER,
    });
    expect((await s.cache.get('s3'))?.revoked).toBe(false);
    s.truth.get('s3')!.revoked = true; // revoked by another instance; its message never arrives
    s.advance(999);
    expect((await s.cache.get('s3'))?.revoked).toBe(false);
    s.advance(1);
    expect((await s.cache.get('s3'))?.revoked).toBe(true);
  });

  it('forgets entries cached before the broker turned unhealthy', async () => {
    const s = setup();
    await s.cache.start();
    await s.cache.get('s1');
    s.truth.get('s1')!.revoked = true;
    s.broker.healthy = false;
    expect((await s.cache.get('s1'))?.revoked).toBe(true);
  });

  it('does not cache a load that raced with an invalidation', async () => {
    const s = setup();
    await s.cache.start();
    const pending = s.cache.get('s1'); // load starts, reads "live"
    await s.broker.publish(SESSION_REVOKED_CHANNEL, { sessionId: 's1' }); // revocation lands meanwhile
    await pending;
    s.truth.get('s1')!.revoked = true;
    expect((await s.cache.get('s1'))?.revoked).toBe(true);
  });
});
