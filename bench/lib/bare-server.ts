import Fastify from 'fastify';
import pg from 'pg';

/**
 * The baseline: the same Fastify on the same Node with nothing of Kith's — no hooks, no auth, no
 * logging. `GET /hello` answers a constant; `GET /pk/:id` runs one primary-key SELECT.
 */
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_SIZE ?? 10),
});
const app = Fastify({ logger: false });

app.get('/hello', async () => ({ hello: 'world' }));
app.get<{ Params: { id: string } }>('/pk/:id', async (request, reply) => {
  const { rows } = await pool.query('SELECT id, username, display_name, bio FROM users WHERE id = $1', [
    request.params.id,
  ]);
  return rows[0] ?? reply.code(404).send({ error: 'not found' });
});

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.once('SIGTERM', () => {
  app
    .close()
    .then(() => pool.end())
    .finally(() => process.exit(0));
});
