import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { AuditService } from '../src/modules/audit/audit.service.ts';
import { SendBatcher, type SendBatcherOptions } from '../src/modules/chat/chat.batcher.ts';
import { ChatRepository, type SendDraft } from '../src/modules/chat/chat.repository.ts';
import { MAX_RESUME_CONVERSATIONS } from '../src/modules/chat/chat.service.ts';
import { buildChatServices } from '../src/modules/chat/chat.wiring.ts';
import { ConversationsRepository } from '../src/modules/chat/conversations.repository.ts';
import { buildSocialServices } from '../src/modules/social.ts';
import { UsersService } from '../src/modules/users/users.service.ts';
import { withAbortableClient } from '../src/platform/db/abortable-client.ts';
import { AppError } from '../src/platform/errors.ts';
import { buildTestApp } from './helpers/app.ts';
import { call, openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { befriend } from './helpers/social.ts';

// The API the realtime gateway calls, exercised directly (no HTTP schema in front of it).
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const db = t.platform.db.primary;
const users = new UsersService(db);
const social = buildSocialServices(t.platform, users, new AuditService(db));
const { chat } = buildChatServices(t.platform, social.friends, users, social.media.media);

async function trio(): Promise<[TestUser, TestUser, TestUser, string, string]> {
  const [a, b, c] = [await createUser(t), await createUser(t), await createUser(t)];
  await befriend(t, a, b);
  await befriend(t, a, c);
  const direct = (await openConversation(t, a, [b])).id;
  const group = (await openConversation(t, a, [b, c], 'Group')).id;
  return [a, b, c, direct, group];
}

/** The AppError code a call fails with. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  throw new Error('expected a failure');
}

const count = async (conversationId: string) =>
  Number(
    (
      await db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('conversation_id', '=', conversationId)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('missedSince and conversationsOf (resume, degraded-mode polling)', () => {
  it('returns what each conversation has past the given seq, in order, with hasMore, and reports unknown ids', async () => {
    const [a, b, c, direct, group] = await trio();
    for (let i = 1; i <= 3; i++) await sendMessage(t, b, direct, `d${i}`);
    for (let i = 1; i <= 4; i++) await sendMessage(t, c, group, `g${i}`);
    const [, , , foreign] = await trio();
    const stranger = crypto.randomUUID();

    const missed = await chat.missedSince(
      a.id,
      { [direct]: 1, [group]: 0, [foreign]: 0, [stranger]: 0, 'not-an-id': 0 },
      3,
    );
    expect(missed.unknown.sort()).toEqual([foreign, stranger, 'not-an-id'].sort());
    const byId = Object.fromEntries(missed.conversations.map((x) => [x.conversationId, x]));
    expect(byId[direct]).toMatchObject({ lastSeq: 3, hasMore: false });
    expect(byId[direct]!.messages.map((m) => [m.seq, m.body])).toEqual([
      [2, 'd2'],
      [3, 'd3'],
    ]);
    expect(byId[group]).toMatchObject({ lastSeq: 4, hasMore: true });
    expect(byId[group]!.messages.map((m) => m.seq)).toEqual([1, 2, 3]);

    // up to date: listed, nothing to read
    const none = await chat.missedSince(a.id, { [direct]: 3 }, 10);
    expect(none).toEqual({
      conversations: [{ conversationId: direct, lastSeq: 3, messages: [], hasMore: false }],
      unknown: [],
    });

    const positions = await chat.conversationsOf(a.id);
    expect(positions.sort((x, y) => x.conversationId.localeCompare(y.conversationId))).toEqual(
      [
        { conversationId: direct, lastSeq: 3, lastReadSeq: 0 },
        { conversationId: group, lastSeq: 4, lastReadSeq: 0 },
      ].sort((x, y) => x.conversationId.localeCompare(y.conversationId)),
    );
    expect(await chat.unreadCounts(a.id)).toEqual({ [direct]: 3, [group]: 4 });

    // after leaving, the group is neither listed nor replayed
    expect((await call(t, c, 'DELETE', `/conversations/${group}/members/${c.username}`)).statusCode).toBe(
      204,
    );
    expect((await chat.conversationsOf(c.id)).map((p) => p.conversationId)).toEqual([]);
    expect((await chat.missedSince(c.id, { [group]: 0 }, 10)).unknown).toEqual([group]);
  });

  it('refuses bad seqs and too many conversations', async () => {
    const [a, , , direct] = await trio();
    for (const seq of [-1, 1.5, Number.NaN, 2 ** 53, '3' as unknown as number]) {
      expect(await codeOf(chat.missedSince(a.id, { [direct]: seq }, 10))).toBe('VALIDATION_FAILED');
    }
    const many = Object.fromEntries(
      Array.from({ length: MAX_RESUME_CONVERSATIONS + 1 }, () => [crypto.randomUUID(), 0]),
    );
    expect(await codeOf(chat.missedSince(a.id, many, 10))).toBe('BAD_REQUEST');
  });
});

describe('send, markRead, typing, isMember as the gateway calls them', () => {
  it('checks what the REST schema would: body, clientMessageId, ids; nothing stored', async () => {
    const [a, , , direct] = await trio();
    const bad: [Record<string, unknown>, string][] = [
      [{ body: 'x'.repeat(4001) }, 'VALIDATION_FAILED'],
      [{ body: '' }, 'VALIDATION_FAILED'],
      [{ body: '\u200b \n' }, 'VALIDATION_FAILED'],
      [{ body: 'a\u0000' }, 'NUL_CHARACTER'],
      [{ body: '\udc00' }, 'VALIDATION_FAILED'],
      [{ body: 7 }, 'VALIDATION_FAILED'],
      [{ clientMessageId: '' }, 'VALIDATION_FAILED'],
      [{ clientMessageId: 'a b' }, 'VALIDATION_FAILED'],
      [{ clientMessageId: 'x'.repeat(65) }, 'VALIDATION_FAILED'],
      [{ clientMessageId: 12 }, 'VALIDATION_FAILED'],
      [{ conversationId: 'garbage' }, 'NOT_FOUND'],
      [{ conversationId: crypto.randomUUID() }, 'NOT_FOUND'],
    ];
    for (const [override, code] of bad) {
      const input = { conversationId: direct, clientMessageId: 'c1', body: 'hello', ...override };
      expect(await codeOf(chat.send(a.id, input as never)), JSON.stringify(override)).toBe(code);
    }
    expect(await count(direct)).toBe(0);
    const sent = await chat.send(a.id, { conversationId: direct, clientMessageId: 'c1', body: 'hello' });
    expect(sent).toMatchObject({
      duplicate: false,
      message: { seq: 1, senderId: a.id, body: 'hello', deleted: false },
    });
    expect(await chat.send(a.id, { conversationId: direct, clientMessageId: 'c1', body: 'hello' })).toEqual({
      ...sent,
      duplicate: true,
    });
  });

  it('typing names the other members; markRead and isMember refuse strangers', async () => {
    const [a, b, c, direct, group] = await trio();
    const outsider = await createUser(t);
    expect((await chat.typing(b.id, group)).sort()).toEqual([a.id, c.id].sort());
    expect(await chat.typing(a.id, direct)).toEqual([b.id]);
    expect(await codeOf(chat.typing(outsider.id, group))).toBe('NOT_FOUND');
    expect(await codeOf(chat.typing(a.id, 'garbage'))).toBe('NOT_FOUND');

    expect(await chat.isMember(c.id, group)).toBe(true);
    expect(await chat.isMember(c.id, direct)).toBe(false);
    expect(await chat.isMember(c.id, 'garbage')).toBe(false);

    await sendMessage(t, a, group, 'one');
    expect(await chat.markRead(b.id, group, 1)).toEqual({ lastReadSeq: 1, unreadCount: 0 });
    expect(await codeOf(chat.markRead(outsider.id, group, 1))).toBe('NOT_FOUND');
    expect(await codeOf(chat.markRead(b.id, 'garbage', 1))).toBe('NOT_FOUND');
    expect(await codeOf(chat.markRead(b.id, group, -1))).toBe('VALIDATION_FAILED');
  });
});

describe('account erasure', () => {
  it('erases the text of the sender’s messages but keeps their seqs', async () => {
    const [a, b, , , group] = await trio();
    await sendMessage(t, a, group, 'keep');
    await sendMessage(t, b, group, 'erase me');
    await sendMessage(t, a, group, 'keep too');
    await db.deleteFrom('users').where('id', '=', b.id).execute();
    const page = (await call(t, a, 'GET', `/conversations/${group}/messages`)).json();
    expect(
      page.items.map((m: { seq: number; body: string; senderId: string | null; deleted: boolean }) => [
        m.seq,
        m.body,
        m.senderId,
        m.deleted,
      ]),
    ).toEqual([
      [1, 'keep', a.id, false],
      [2, '', null, true],
      [3, 'keep too', a.id, false],
    ]);
  });
});

describe('the send batcher against a real PostgreSQL', () => {
  const repo = new ChatRepository(db);
  const pool = t.platform.db.primaryPool;

  /** A batcher on the app's pool that records each round trip's drafts (and may set a statement timeout). */
  function realBatcher(options: SendBatcherOptions & { statementTimeoutMs?: number } = {}) {
    const calls: string[][] = [];
    const { statementTimeoutMs, ...rest } = options;
    const batcher = new SendBatcher(
      (drafts, signal) =>
        withAbortableClient(pool, signal, async (client) => {
          calls.push(drafts.map((d) => d.clientMessageId));
          if (statementTimeoutMs) await client.query(`SET statement_timeout = ${statementTimeoutMs}`);
          try {
            return await repo.send(client, drafts);
          } finally {
            if (statementTimeoutMs) await client.query('RESET statement_timeout');
          }
        }),
      rest,
    );
    return { batcher, calls };
  }
  const draft = (
    conversationId: string,
    sender: TestUser,
    clientMessageId: string,
    id = crypto.randomUUID(),
  ) =>
    ({ id, conversationId, senderId: sender.id, clientMessageId, body: clientMessageId }) satisfies SendDraft;

  /** Holds the conversation row's lock (as a long transaction would) until `release()`. */
  async function lockConversation(conversationId: string) {
    const client = new (await import('pg')).default.Client({ connectionString: t.databaseUrl });
    await client.connect();
    await client.query('BEGIN');
    await client.query('SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE', [conversationId]);
    return async () => {
      await client.query('ROLLBACK');
      await client.end();
    };
  }

  it('a batch one send spoils (a duplicate key) is retried one by one: only that send fails', async () => {
    const [a, , , direct] = await trio();
    const { batcher, calls } = realBatcher();
    const first = batcher.send(draft(direct, a, 'one'));
    const clash = crypto.randomUUID();
    const rest = Promise.allSettled([
      batcher.send(draft(direct, a, 'two', clash)),
      batcher.send(draft(direct, a, 'three', clash)), // the same message id: 23505 on insert
      batcher.send(draft(direct, a, 'four')),
    ]);
    await first;
    const settled = await rest;
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
    expect(calls).toEqual([['one'], ['two', 'three', 'four'], ['two'], ['three'], ['four']]);
    expect(await count(direct)).toBe(3);
    expect(batcher.stats.circuit).toBe('closed');
  });

  it('a statement timeout fails the whole batch at once as retryable (never split); the circuit opens, and resends are stored once', async () => {
    const [a, , , direct] = await trio();
    const clock = { now: 0 };
    const { batcher, calls } = realBatcher({
      statementTimeoutMs: 150,
      breakerFailures: 2,
      breakerResetMs: 1000,
      now: () => clock.now,
    });
    const release = await lockConversation(direct);
    const sends = ['t1', 't2', 't3', 't4'].map((id) =>
      batcher.send(draft(direct, a, id)).then(
        () => 'stored',
        (err: AppError) => ({ code: err.code, retryable: err.retryable }),
      ),
    );
    const answered = await Promise.all(sends);
    expect(answered).toEqual(sends.map(() => ({ code: 'DATABASE_UNAVAILABLE', retryable: true })));
    expect(calls).toEqual([['t1'], ['t2', 't3', 't4']]); // two round trips: the second not split
    expect(batcher.stats.circuit).toBe('open');
    // open: refused without a round trip
    expect(await codeOf(batcher.send(draft(direct, a, 't5')))).toBe('DATABASE_UNAVAILABLE');
    expect(calls).toHaveLength(2);
    await release();
    clock.now = 1000;
    // the probe goes, succeeds and closes the circuit; each resend is stored once
    for (const id of ['t1', 't2', 't3', 't4', 't5']) {
      await expect(batcher.send(draft(direct, a, id))).resolves.toMatchObject({ status: 'sent' });
    }
    expect(batcher.stats.circuit).toBe('closed');
    expect(await count(direct)).toBe(5);
  });

  it('a round trip past its deadline closes its connection; what it committed late is recognised when resent', async () => {
    const [a, , , direct] = await trio();
    const { batcher } = realBatcher({ timeoutMs: 200, breakerFailures: 5 });
    const release = await lockConversation(direct);
    expect(await codeOf(batcher.send(draft(direct, a, 'late')))).toBe('DATABASE_UNAVAILABLE');
    // the aborted round trip's connection was closed, not handed back to the pool: every connection
    // the pool may hold answers at once, while that statement still waits for the lock
    const size = t.platform.config.database.poolSize;
    const answers = await Promise.all(Array.from({ length: size }, () => pool.query('SELECT 1 AS one')));
    expect(answers.map((r) => r.rows[0].one)).toEqual(Array.from({ length: size }, () => 1));
    await release(); // the abandoned statement now gets the lock and commits on the server
    const resent = await batcher.send(draft(direct, a, 'late'));
    expect(resent.status).toBe('duplicate');
    expect(await count(direct)).toBe(1);
  });
});

describe('query plans', () => {
  type PlanNode = {
    'Node Type': string;
    'Index Name'?: string;
    'Relation Name'?: string;
    Plans?: PlanNode[];
  };
  const scansIn = (node: PlanNode): string[] => [
    node['Index Name'] ?? (node['Node Type'] === 'Seq Scan' ? `Seq Scan on ${node['Relation Name']}` : ''),
    ...(node.Plans ?? []).flatMap(scansIn),
  ];
  const plan = async (compiled: { sql: string; parameters: readonly unknown[] }) => {
    const { rows } = await t.platform.db.primaryPool.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
      `EXPLAIN (FORMAT JSON) ${compiled.sql}`,
      compiled.parameters as unknown[],
    );
    return scansIn(rows[0]!['QUERY PLAN'][0]!.Plan).filter(Boolean);
  };

  it('message pages and my conversation list read their indexes', async () => {
    const [a, , , , group] = await trio();
    // bulk: 20,000 conversations of one message, 20 of them a's
    await sql`
      INSERT INTO conversations (id, kind, title, last_seq, last_message_at)
      SELECT gen_random_uuid(), 'group', 'bulk', 1, now() - i * interval '1 minute' FROM generate_series(1, 20000) i`.execute(
      db,
    );
    await sql`
      INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, body)
      SELECT gen_random_uuid(), id, 1, ${a.id}, 'bulk', 'text' FROM conversations WHERE title = 'bulk'`.execute(
      db,
    );
    // and one long conversation: the one whose pages are read
    await sql`
      INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, body)
      SELECT gen_random_uuid(), ${group}, s, ${a.id}, 'long-' || s, 'text' FROM generate_series(1, 5000) s`.execute(
      db,
    );
    await sql`UPDATE conversations SET last_seq = 5000 WHERE id = ${group}`.execute(db);
    // 500 other users, one in each bulk conversation; a is in 20 of them
    await sql`
      INSERT INTO users (id, username, email, display_name, password_hash)
      SELECT gen_random_uuid(), 'bulk_' || i, 'bulk_' || i || '@example.com', 'Bulk', 'x'
        FROM generate_series(1, 500) i`.execute(db);
    await sql`
      INSERT INTO conversation_members (conversation_id, user_id)
      SELECT c.id, u.id
        FROM (SELECT id, row_number() OVER () AS n FROM conversations WHERE title = 'bulk') c
        JOIN (SELECT id, row_number() OVER () AS n FROM users WHERE username LIKE 'bulk\_%') u
          ON u.n = c.n % 500 + 1`.execute(db);
    await sql`
      INSERT INTO conversation_members (conversation_id, user_id)
      SELECT id, ${a.id} FROM conversations WHERE title = 'bulk' LIMIT 20`.execute(db);
    await sql`ANALYZE conversations`.execute(db);
    await sql`ANALYZE messages`.execute(db);
    await sql`ANALYZE conversation_members`.execute(db);

    const messages = new ChatRepository(db);
    for (const range of [{}, { before: 2500 }, { after: 2500 }]) {
      const scans = await plan(messages.pageQuery(group, range, 50).compile());
      expect(scans).toContain('messages_conversation_id_seq_key');
      expect(scans).not.toContain('Seq Scan on messages');
    }
    const list = await plan(new ConversationsRepository(db).listQuery(a.id, undefined, 20).compile(db));
    expect(list).toContain('conversation_members_user_idx');
    expect(list).not.toContain('Seq Scan on conversations');
    expect(list).not.toContain('Seq Scan on conversation_members');
    expect(list).not.toContain('Seq Scan on messages');
  }, 120_000); // bulk inserts on a shared, loaded CI box
});
