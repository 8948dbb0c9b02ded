import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { notBlockedWith } from '../src/modules/friends/block-filter.ts';
import { buildTestApp } from './helpers/app.ts';
import { call, openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { SERVER_DIR } from './helpers/process.ts';
import { befriend, createPost } from './helpers/social.ts';

// The block rule has one home, kith_blocked_with() (migration 0019): the chat send function and
// the other modules' block filter both call it, and both still refuse or hide across a block.
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const db = t.platform.db.primary;

const block = async (blocker: TestUser, blocked: TestUser) =>
  expect((await call(t, blocker, 'PUT', `/blocks/${blocked.username}`)).statusCode).toBe(204);
const unblock = async (blocker: TestUser, blocked: TestUser) =>
  expect((await call(t, blocker, 'DELETE', `/blocks/${blocked.username}`)).statusCode).toBe(204);

async function refusedSend(sender: TestUser, conversationId: string) {
  const res = await call(t, sender, 'POST', `/conversations/${conversationId}/messages`, {
    clientMessageId: randomUUID(),
    body: 'across a block',
  });
  expect(res.statusCode, res.body).toBe(403);
  const { error } = res.json();
  expect(error).toMatchObject({ code: 'FORBIDDEN', requestId: res.headers['x-request-id'] });
  expect(typeof error.message).toBe('string');
}

const tagged = async (viewer: TestUser, tag: string) =>
  ((await call(t, viewer, 'GET', `/tags/${tag}/posts`)).json().items as { id: string }[]).map((p) => p.id);

describe('the block rule', () => {
  it('refuses a direct message across a block, either way, and allows it again after unblocking', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    const { id } = await openConversation(t, a, [b]);
    await sendMessage(t, a, id, 'before');

    await block(b, a);
    await refusedSend(a, id); // the blocked one
    await refusedSend(b, id); // the blocker
    const { count } = await db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('conversation_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(1);

    await unblock(b, a);
    expect((await sendMessage(t, a, id, 'after')).seq).toBe(2);
  });

  it("hides each one's posts from the other in other modules' queries", async () => {
    const [a, b, c] = [await createUser(t), await createUser(t), await createUser(t)];
    const tag = `blockrule${randomUUID().slice(0, 8)}`;
    const byA = await createPost(t, a, `from a #${tag}`, 'public');
    const byB = await createPost(t, b, `from b #${tag}`, 'public');
    expect((await tagged(a, tag)).sort()).toEqual([byA.id, byB.id].sort());

    await block(a, b);
    expect(await tagged(a, tag)).toEqual([byA.id]);
    expect(await tagged(b, tag)).toEqual([byB.id]);
    expect((await tagged(c, tag)).sort()).toEqual([byA.id, byB.id].sort());
  });

  it('is written once: chat_send_message and the filter call kith_blocked_with, which the planner inlines', async () => {
    const { rows } = await sql<{ def: string }>`
      SELECT pg_get_functiondef('chat_send_message'::regproc) AS def`.execute(db);
    const definition = rows[0]!.def;
    expect(definition).toContain('kith_blocked_with(p_sender_id)');
    expect(definition).not.toMatch(/\b(FROM|JOIN)\s+blocks\b/i);

    const query = db
      .selectFrom('posts as p')
      .select('p.id')
      .where(notBlockedWith(randomUUID(), 'p.author_id'))
      .compile();
    expect(query.sql).toContain('kith_blocked_with(');
    const plan = await sql
      .raw<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.sql.replace(/\$1/g, `'${query.parameters[0]}'::uuid`)}`)
      .execute(db);
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    // inlined: the blocks table's indexes, no opaque call per row
    expect(text).not.toContain('Function Scan');
    expect(text).toMatch(/blocks_pkey|blocks_blocked_idx|Seq Scan on blocks/);
  });

  it("is not written out again in other modules' code", () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    // the friends module owns the blocks table; the data export lists the user's own blocks
    const allowed = /^src\/modules\/friends\/|^src\/modules\/account\/export-sections\.ts$/;
    const offenders = sources(join(SERVER_DIR, 'src'))
      .map((path) => relative(SERVER_DIR, path))
      .filter((path) => !allowed.test(path))
      .filter((path) =>
        /\b(FROM|JOIN)\s+blocks\b|(selectFrom|innerJoin|leftJoin)\(\s*'blocks/.test(
          readFileSync(join(SERVER_DIR, path), 'utf8'),
        ),
      );
    expect(offenders, 'use notBlockedWith / kith_blocked_with').toEqual([]);
  });
});
