/**
 * Baseline for bench/realtime.ts: a bare `ws` server (no auth, no protocol) that broadcasts
 * `POST /broadcast?n=&size=` to every client, reports its RSS at `GET /rss`, and `GET /health`.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/health') return res.end('ok');
  if (url.pathname === '/rss') {
    globalThis.gc?.();
    return res.end(String(process.memoryUsage().rss));
  }
  if (url.pathname === '/broadcast') {
    const n = Number(url.searchParams.get('n') ?? 1);
    const size = Number(url.searchParams.get('size') ?? 200);
    for (let i = 0; i < n; i++) {
      const json = JSON.stringify({ type: 'message.new', message: { seq: i + 1, body: 'x'.repeat(size) } });
      for (const client of wss.clients) client.send(json);
    }
    return res.end('sent');
  }
  res.statusCode = 404;
  res.end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });
server.listen(Number(process.env.PORT), '127.0.0.1');
