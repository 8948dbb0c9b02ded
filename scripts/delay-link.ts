/**
 * A TCP relay on 127.0.0.1 whose answers (target → client) can be held back by `delayMs`: what
 * `tc qdisc … netem delay` on the target's interface does, in user space, for machines whose kernel
 * has no netem (these). `npm run cluster -- --db-link` puts one between PgBouncer and the primary;
 * the pg-latency drill sets the delay through the control channel. Bytes pass through untouched
 * (TLS included) and in order, also when the delay changes mid-stream.
 */
import { createServer, type Server, Socket } from 'node:net';

export class DelayLink {
  /** Added to every target → client chunk (0: straight through). */
  delayMs = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  /** Client connections open now. */
  get connections(): number {
    return this.sockets.size / 2;
  }

  /** Listens on a free port of 127.0.0.1 and relays to `targetPort`; resolves to the port. */
  listen(targetPort: number, host = '127.0.0.1'): Promise<number> {
    // half-open both ways: a side's end is passed on only after what is queued for the other side
    const server = createServer({ allowHalfOpen: true }, (client) => {
      const target = new Socket({ allowHalfOpen: true });
      for (const s of [client, target]) {
        this.sockets.add(s);
        s.setNoDelay(true);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          target.destroy();
        });
      }
      target.connect(targetPort, host);
      this.relay(client, target, () => 0);
      this.relay(target, client, () => this.delayMs);
    });
    this.server = server;
    return new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(0, host, () => ok((server.address() as { port: number }).port));
    });
  }

  close(): void {
    this.server?.close();
    for (const s of this.sockets) s.destroy();
  }

  /** `from` → `to`, each chunk no sooner than `delay()` ms after it arrived, never reordered. */
  private relay(from: Socket, to: Socket, delay: () => number): void {
    const queue: { due: number; chunk: Buffer | null }[] = [];
    let scheduled = false;
    let lastDue = 0;
    const drain = () => {
      scheduled = false;
      const now = performance.now();
      while (queue.length && queue[0]!.due <= now + 0.5) {
        const { chunk } = queue.shift()!;
        if (to.destroyed) return;
        if (chunk === null) to.end();
        else to.write(chunk);
      }
      if (queue.length) {
        scheduled = true;
        setTimeout(drain, queue[0]!.due - now);
      }
    };
    const push = (chunk: Buffer | null) => {
      const now = performance.now();
      const due = Math.max(now + delay(), lastDue);
      lastDue = due;
      if (due <= now && queue.length === 0) {
        if (chunk === null) to.end();
        else to.write(chunk);
        return;
      }
      queue.push({ due, chunk });
      if (!scheduled) {
        scheduled = true;
        setTimeout(drain, queue[0]!.due - now);
      }
    };
    from.on('data', (chunk: Buffer) => push(chunk));
    from.on('end', () => push(null));
  }
}
