import { describe, expect, it } from 'vitest';
import { MemoryBroker } from './memory-broker.ts';

describe('MemoryBroker', () => {
  it('delivers copies to every subscriber of a channel until they unsubscribe', async () => {
    const broker = new MemoryBroker();
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = await broker.subscribe('ch', (m) => a.push(m));
    await broker.subscribe('ch', (m) => b.push(m));
    await broker.subscribe('other', () => a.push('wrong channel'));
    const message = { n: 1 };
    await broker.publish('ch', message);
    await Promise.resolve();
    expect(a).toEqual([{ n: 1 }]);
    expect(b).toEqual([{ n: 1 }]);
    expect(a[0]).not.toBe(message);

    await offA();
    await broker.publish('ch', { n: 2 });
    await Promise.resolve();
    expect(a).toEqual([{ n: 1 }]);
    expect(b).toEqual([{ n: 1 }, { n: 2 }]);
    expect(broker.healthy).toBe(true);
  });
});
