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

  it('publishes one message to several channels: parsed once, shared frozen, with its JSON', async () => {
    const broker = new MemoryBroker();
    const got: [unknown, string][] = [];
    for (const ch of ['u.1', 'u.2', 'u.3']) await broker.subscribe(ch, (m, json) => got.push([m, json]));
    await broker.publish(['u.1', 'u.3', 'nobody'], { text: 'hi', tags: ['a'] });
    await Promise.resolve();
    expect(got).toHaveLength(2);
    expect(got[0]![0]).toBe(got[1]![0]);
    expect(got[0]![0]).toEqual({ text: 'hi', tags: ['a'] });
    expect(got[0]![1]).toBe('{"text":"hi","tags":["a"]}');
    expect(() => (got[0]![0] as { tags: string[] }).tags.push('b')).toThrow(TypeError);
  });
});
