import type { ClientMessage, ServerMessage } from '@kith/contract';
import { describe, expect, it } from 'vitest';
import { type ChannelLike, type HubSocket, RealtimeHub, type TabMessage } from './hub.ts';
import type { LocksLike } from './leader.ts';
import type { ConnectionState } from './socket.ts';

/** Web Locks as the browser grants them: one holder, the next waiter granted when it lets go. */
class FakeLocks implements LocksLike {
  private holder: Promise<unknown> | undefined;
  private readonly queue: { grant: () => void; signal?: AbortSignal | undefined }[] = [];
  request(_name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>) {
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.holder = callback().then((value) => {
          this.holder = undefined;
          resolve(value);
          this.queue.shift()?.grant();
        });
      };
      options.signal?.addEventListener('abort', () => {
        const at = this.queue.findIndex((w) => w.grant === grant);
        if (at >= 0) this.queue.splice(at, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
      if (this.holder) this.queue.push({ grant, signal: options.signal });
      else grant();
    });
  }
}

/** BroadcastChannel: every other member of the bus gets each message (not the sender). */
class Bus {
  members = new Set<FakeChannel>();
  channel() {
    const c = new FakeChannel(this);
    this.members.add(c);
    return c;
  }
}
class FakeChannel implements ChannelLike {
  onmessage: ((event: { data: TabMessage }) => void) | null = null;
  constructor(private readonly bus: Bus) {}
  postMessage(message: TabMessage) {
    for (const other of this.bus.members) {
      if (other !== this) queueMicrotask(() => other.onmessage?.({ data: structuredClone(message) }));
    }
  }
  close() {
    this.bus.members.delete(this);
  }
}

class FakeSocket implements HubSocket {
  state: ConnectionState = 'reconnecting';
  sent: ClientMessage[] = [];
  started = false;
  stopped = false;
  constructor(readonly handlers: { onEvent(e: ServerMessage): void; onState(s: ConnectionState): void }) {}
  start() {
    this.started = true;
  }
  stop() {
    this.stopped = true;
  }
  send(frame: ClientMessage) {
    this.sent.push(frame);
    return true;
  }
  retryNow() {}
  wentOffline() {}
  goLive() {
    this.state = 'live';
    this.handlers.onState('live');
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function tabs(count: number) {
  const locks = new FakeLocks();
  const bus = new Bus();
  const sockets: FakeSocket[] = [];
  const hubs = Array.from({ length: count }, () => {
    const hub = new RealtimeHub({
      locks,
      channel: bus.channel(),
      lockName: 'kith-realtime:u1',
      createSocket: (handlers) => {
        const socket = new FakeSocket(handlers);
        sockets.push(socket);
        return socket;
      },
    });
    const events: string[] = [];
    hub.subscribe((e) => events.push(e.type === 'typing' ? `typing:${e.userId}` : e.type));
    hub.start();
    return { hub, events };
  });
  return { hubs, sockets };
}

const typing = (userId: string): ServerMessage => ({
  type: 'typing',
  conversationId: '00000000-0000-7000-8000-000000000001',
  userId,
});

describe('RealtimeHub: one socket for every tab', () => {
  it('elects one leader; its events and state reach every tab, the others’ sends go through it', async () => {
    const { hubs, sockets } = tabs(3);
    await flush();
    expect(sockets).toHaveLength(1);
    expect(hubs.map((t) => t.hub.isLeader)).toEqual([true, false, false]);
    sockets[0]!.goLive();
    sockets[0]!.handlers.onEvent(typing('a'));
    await flush();
    expect(hubs.map((t) => t.hub.state)).toEqual(['live', 'live', 'live']);
    expect(hubs.map((t) => t.events)).toEqual([['typing:a'], ['typing:a'], ['typing:a']]);

    const frame: ClientMessage = { type: 'typing', conversationId: '00000000-0000-7000-8000-000000000001' };
    expect(hubs[2]!.hub.send(frame)).toBe(true);
    await flush();
    expect(sockets[0]!.sent).toEqual([frame]);
  });

  it('when the leader closes, the next tab takes over with a socket of its own and tells the rest', async () => {
    const { hubs, sockets } = tabs(3);
    await flush();
    sockets[0]!.goLive();
    await flush();
    hubs[0]!.hub.stop(); // the tab closed: its lock is released
    await flush();
    expect(sockets[0]!.stopped).toBe(true);
    expect(sockets).toHaveLength(2);
    expect(sockets[1]!.started).toBe(true);
    expect(hubs[1]!.hub.isLeader).toBe(true);
    // the new socket is not up yet: nobody claims to be live
    expect([hubs[1]!.hub.state, hubs[2]!.hub.state]).toEqual(['reconnecting', 'reconnecting']);
    sockets[1]!.goLive();
    sockets[1]!.handlers.onEvent(typing('b'));
    await flush();
    expect(hubs[2]!.hub.state).toBe('live');
    expect(hubs[2]!.events).toEqual(['typing:b']);
    expect(hubs[0]!.events).toEqual([]); // a closed tab hears nothing more
  });

  it('is not live (sends fall back to HTTP) while the socket is down', async () => {
    const { hubs } = tabs(2);
    await flush();
    expect(hubs[1]!.hub.send({ type: 'ping' })).toBe(false);
  });

  it('without Web Locks or BroadcastChannel each tab keeps its own socket', async () => {
    const sockets: FakeSocket[] = [];
    const hub = new RealtimeHub({
      locks: undefined,
      channel: undefined,
      lockName: 'x',
      createSocket: (h) => {
        const s = new FakeSocket(h);
        sockets.push(s);
        return s;
      },
    });
    hub.start();
    expect(hub.isLeader).toBe(true);
    expect(sockets[0]!.started).toBe(true);
  });
});
