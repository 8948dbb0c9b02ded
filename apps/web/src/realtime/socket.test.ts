import type { ServerMessage } from '@kith/contract';
import { describe, expect, it } from 'vitest';
import { type ConnectionState, SocketConnection, type SocketLike, WATCHDOG_CLOSE } from './socket.ts';

class FakeWs implements SocketLike {
  readyState = 0;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  sent: unknown[] = [];
  closedWith: number | undefined;
  constructor(readonly ticket: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

/** Timers run only when the test says, in due order. */
class Clock {
  now = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  set = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  };
  clear = (id: unknown) => {
    this.timers.delete(id as number);
  };
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }
  advance(ms: number) {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
const hello = (heartbeatMs = 1000): ServerMessage => ({
  type: 'hello',
  protocol: 'kith.v1',
  userId: '00000000-0000-7000-8000-000000000001',
  degraded: false,
  heartbeatMs,
});

function setup(options: { online?: boolean | (() => boolean); ticketFails?: number } = {}) {
  const clock = new Clock();
  const sockets: FakeWs[] = [];
  const states: ConnectionState[] = [];
  const events: string[] = [];
  let tickets = 0;
  let attempts = 0;
  let failures = options.ticketFails ?? 0;
  const positions: Record<string, number> = { 'c-1': 4 };
  const conn = new SocketConnection({
    ticket: async () => {
      attempts++;
      if (failures-- > 0) throw new Error('network');
      return `t${++tickets}`;
    },
    open: (ticket) => {
      const ws = new FakeWs(ticket);
      sockets.push(ws);
      return ws;
    },
    positions: () => ({ ...positions }),
    onEvent: (e) => events.push(e.type),
    onState: (s) => states.push(s),
    online:
      typeof options.online === 'function'
        ? options.online
        : () => (options.online as boolean | undefined) ?? true,
    backoff: { baseMs: 500, capMs: 30_000, random: () => 0.5 },
    setTimer: clock.set,
    clearTimer: clock.clear,
  });
  /** Tickets asked for (answered or not). */
  const ticketsAsked = () => attempts;
  return { clock, sockets, states, events, positions, conn, tickets: ticketsAsked };
}

describe('SocketConnection', () => {
  it('fetches a ticket per connection and sends resume with the positions as the very first frame', async () => {
    const { conn, sockets, states, positions, clock } = setup();
    conn.start();
    await flush();
    sockets[0]!.open();
    expect(sockets[0]!.sent).toEqual([{ type: 'resume', conversations: { 'c-1': 4 } }]);
    sockets[0]!.receive(hello());
    expect(states).toEqual(['live']);
    expect(conn.send({ type: 'ping' })).toBe(true);

    positions['c-1'] = 9; // messages arrived meanwhile
    sockets[0]!.drop();
    expect(states).toEqual(['live', 'reconnecting']);
    expect(conn.send({ type: 'ping' })).toBe(false);
    clock.advance(250); // 0.5 × 500 ms
    await flush();
    expect(sockets[1]!.ticket).toBe('t2');
    sockets[1]!.open();
    expect(sockets[1]!.sent[0]).toEqual({ type: 'resume', conversations: { 'c-1': 9 } });
  });

  it('backs off exponentially while the server cannot be reached (the browser online)', async () => {
    const { conn, clock, sockets, states } = setup({ ticketFails: 3 });
    conn.start();
    await flush();
    expect(conn.state).toBe('reconnecting');
    expect(clock.pending()).toEqual([250]);
    clock.advance(250);
    await flush();
    expect(clock.pending()).toEqual([500]);
    clock.advance(500);
    await flush();
    expect(clock.pending()).toEqual([1000]);
    conn.retryNow(); // the tab became visible: no waiting
    await flush();
    expect(sockets).toHaveLength(1);
    sockets[0]!.open();
    sockets[0]!.receive(hello());
    expect(states.at(-1)).toBe('live');
    sockets[0]!.drop();
    expect(clock.pending()).toEqual([250]); // a successful connection starts the backoff over
  });

  it('offline, fetches no ticket at a short pace: it waits for the network, at the cap’s pace at most', async () => {
    let online = false;
    const { conn, clock, sockets, states, tickets } = setup({ online: () => online, ticketFails: 1000 });
    conn.start();
    await flush();
    expect(states).toEqual(['offline']);
    expect(clock.pending()).toEqual([15_000]); // 0.5 × the 30 s cap, not 0.5 × 500 ms
    for (let i = 0; i < 20; i++) {
      clock.advance(15_000);
      await flush();
    }
    // 5 minutes offline: one ticket at the start and one per wait (a browser wrong about being
    // offline still gets through), never one a second
    expect(tickets()).toBe(21);
    expect(clock.pending()).toEqual([15_000]);

    online = true;
    conn.retryNow(); // the network is back (`online`, or pwa/network.ts's re-check)
    await flush();
    expect(tickets()).toBe(22);
    // the server does not answer yet: short waits again, not the offline pace
    expect(clock.pending()).toEqual([250]);
    expect(states.at(-1)).toBe('reconnecting');
    expect(sockets).toHaveLength(0);
  });

  it('pings every heartbeat, and reconnects when nothing arrives for two', async () => {
    const { conn, clock, sockets, states } = setup();
    conn.start();
    await flush();
    sockets[0]!.open();
    sockets[0]!.receive(hello(1000));
    clock.advance(1000);
    expect(sockets[0]!.sent.at(-1)).toEqual({ type: 'ping' });
    sockets[0]!.receive({ type: 'pong' }); // traffic: the watchdog starts over
    clock.advance(1900);
    expect(sockets[0]!.closedWith).toBeUndefined();
    clock.advance(200); // 2 s of silence since the pong
    expect(sockets[0]!.closedWith).toBe(WATCHDOG_CLOSE);
    expect(states.at(-1)).toBe('reconnecting');
    clock.advance(250);
    await flush();
    expect(sockets).toHaveLength(2);
  });

  it('says offline at once when the browser does, drops the socket, and comes back on online', async () => {
    let online = true;
    const { conn, clock, sockets, states } = setup({ online: () => online });
    conn.start();
    await flush();
    sockets[0]!.open();
    sockets[0]!.receive(hello());
    online = false;
    conn.wentOffline();
    expect(states.at(-1)).toBe('offline');
    expect(sockets[0]!.closedWith).toBe(1000);
    expect(conn.send({ type: 'ping' })).toBe(false);
    online = true;
    conn.retryNow(); // the `online` event
    await flush();
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    sockets[1]!.receive(hello());
    expect(states.at(-1)).toBe('live');
    clock.advance(60_000);
  });

  it('stop() closes the socket and never reconnects', async () => {
    const { conn, clock, sockets } = setup();
    conn.start();
    await flush();
    sockets[0]!.open();
    conn.stop();
    expect(sockets[0]!.closedWith).toBe(1000);
    clock.advance(60_000);
    await flush();
    expect(sockets).toHaveLength(1);
  });
});
