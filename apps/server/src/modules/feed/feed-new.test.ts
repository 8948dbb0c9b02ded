import { FeedNewEvent } from '@kith/contract';
import { Registry } from 'prom-client';
import { Value } from 'typebox/value';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryBroker } from '../../platform/broker/memory-broker.ts';
import { createLogger } from '../../platform/observability/logger.ts';
import { userChannel } from '../notifications/notifications.service.ts';
import { FEED_NEW_FLAG, FeedNewNotifier, type FlagCheck } from './feed-new.ts';

const [author, r1, r2, r3] = ['author', 'reader-1', 'reader-2', 'reader-3'];
/** Fan-out's readers: the ids given, with the role `user` unless named in `roles`. */
const readers = (ids: (string | undefined)[], roles: Record<string, string> = {}) =>
  ids.map((id) => ({ id: id!, role: roles[id!] ?? 'user' }));

/** The flag as FlagsService answers it: on for the readers in `on`, asked by key and user id. */
function flagOnFor(on: Set<string>): FlagCheck & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async isEnabled(key, who) {
      asked.push(`${key}:${who.targetingKey}:${who.role}`);
      return key === FEED_NEW_FLAG && on.has(who.targetingKey ?? '');
    },
  };
}

async function setup(windowMs: number, on = new Set([author, r1, r2, r3])) {
  const broker = new MemoryBroker();
  const got = new Map<string, unknown[]>();
  for (const user of [author, r1, r2, r3]) {
    got.set(user, []);
    await broker.subscribe(userChannel(user!), (message) => got.get(user!)!.push(message));
  }
  const registry = new Registry();
  const flags = flagOnFor(on);
  const notifier = new FeedNewNotifier({ broker, flags, logger: createLogger('silent'), registry, windowMs });
  const outcomes = async () =>
    Object.fromEntries(
      (await registry.getSingleMetricAsString('kith_feed_new_events_total'))
        .split('\n')
        .filter((l) => l.startsWith('kith_feed_new_events_total{'))
        .map((l) => [l.match(/outcome="(\w+)"/)![1], Number(l.split(' ').at(-1))]),
    );
  return { notifier, got, flags, outcomes };
}

describe('FeedNewNotifier', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('coalesces a burst into one event per reader when the window closes, with the count', async () => {
    const { notifier, got } = await setup(2000);
    notifier.added(readers([r1!, r2!]), author!);
    notifier.added(readers([r1!]), author!);
    await vi.advanceTimersByTimeAsync(1999);
    notifier.added(readers([r1!, r3!]), author!);
    expect([...got.values()].flat()).toEqual([]); // nothing before the window closes
    await vi.advanceTimersByTimeAsync(1);
    await notifier.stop();
    expect(got.get(r1!)).toEqual([{ type: 'feed.new', count: 3 }]);
    expect(got.get(r2!)).toEqual([{ type: 'feed.new', count: 1 }]);
    expect(got.get(r3!)).toEqual([{ type: 'feed.new', count: 1 }]);
    for (const event of [...got.values()].flat()) expect(Value.Check(FeedNewEvent, event)).toBe(true);

    // the next post opens a new window
    notifier.added(readers([r2!]), author!);
    await vi.advanceTimersByTimeAsync(2000);
    await notifier.stop();
    expect(got.get(r2!)).toEqual([
      { type: 'feed.new', count: 1 },
      { type: 'feed.new', count: 1 },
    ]);
  });

  it('never tells the author of their own post; asks the flag per reader (id and role) when the event is due', async () => {
    const { notifier, got, flags, outcomes } = await setup(500, new Set([author!, r1!]));
    notifier.added(readers([author!, r1!, r2!], { [r2!]: 'moderator' }), author!);
    expect(flags.asked).toEqual([]);
    await vi.advanceTimersByTimeAsync(500);
    await notifier.stop();
    expect(got.get(author!)).toEqual([]);
    expect(got.get(r1!)).toEqual([{ type: 'feed.new', count: 1 }]);
    expect(got.get(r2!)).toEqual([]);
    expect(flags.asked.sort()).toEqual([`${FEED_NEW_FLAG}:${r1}:user`, `${FEED_NEW_FLAG}:${r2}:moderator`]);
    expect(await outcomes()).toEqual({ sent: 1, flag_off: 1 });
  });

  it('with a window of 0 sends at once, one event per fan-out', async () => {
    const { notifier, got } = await setup(0);
    notifier.added(readers([r1!]), author!);
    await notifier.stop();
    notifier.added(readers([r1!]), author!);
    await notifier.stop();
    expect(got.get(r1!)).toEqual([
      { type: 'feed.new', count: 1 },
      { type: 'feed.new', count: 1 },
    ]);
  });

  it('counts a failed publish and keeps going', async () => {
    const { notifier, outcomes } = await setup(0);
    const broker = (notifier as unknown as { options: { broker: MemoryBroker } }).options.broker;
    vi.spyOn(broker, 'publish').mockRejectedValueOnce(new Error('broker down'));
    notifier.added(readers([r1!]), author!);
    await notifier.stop();
    notifier.added(readers([r1!]), author!);
    await notifier.stop();
    expect(await outcomes()).toEqual({ failed: 1, sent: 1 });
  });
});
