import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { call, openConversation } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { connect } from './helpers/ws-client.ts';
import { png, upload, uploadReady } from './media-helpers.ts';

type Attachment = { id: string; variants: { thumb: { url: string }; large: { url: string } } };
type Message = {
  id: string;
  seq: number;
  body: string;
  deleted: boolean;
  clientMessageId: string;
  media: Attachment[];
};

let dataDir: string;
let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let stranger: TestUser;
let direct: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kith-chat-media-'));
  t = await buildTestApp({
    ...GENEROUS_AUTH_LIMITS,
    CHAT_FRIENDS_ONLY: 'false',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
  });
  [alice, bob, stranger] = await Promise.all([createUser(t), createUser(t), createUser(t)]);
  direct = (await openConversation(t, alice, [bob])).id;
});
afterAll(async () => {
  await t.close();
  await rm(dataDir, { recursive: true, force: true });
});

let counter = 0;
const send = (user: TestUser, conversationId: string, payload: Record<string, unknown>) =>
  call(t, user, 'POST', `/conversations/${conversationId}/messages`, {
    clientMessageId: `cm-${++counter}`,
    ...payload,
  });
const page = async (user: TestUser, conversationId: string, query = '') => {
  const res = await call(t, user, 'GET', `/conversations/${conversationId}/messages${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items as Message[];
};
const ids = (m: Message) => m.media.map((a) => a.id);
const mediaView = (user: TestUser | undefined, id: string) => call(t, user, 'GET', `/media/${id}`);
const file = (url: string) => t.app.inject({ method: 'GET', url });

/** Primary-pool queries run so far (every Kysely statement counts one). */
async function queriesRun(): Promise<number> {
  const { values } = await t.platform.metrics.dbQueries.get();
  return values.filter((v) => v.labels.pool === 'primary').reduce((sum, v) => sum + v.value, 0);
}

describe('media on chat messages', () => {
  it('attaches the sender’s ready media in order and shows them to members with signed URLs', async () => {
    const [first, second] = [
      await uploadReady(t, alice, await png(80, 60)),
      await uploadReady(t, alice, await png()),
    ];
    const res = await send(alice, direct, { body: 'look', mediaIds: [second.id, first.id] });
    expect(res.statusCode, res.body).toBe(201);
    const sent: Message = res.json().message;
    expect(ids(sent)).toEqual([second.id, first.id]);
    expect(sent.media[1]).toMatchObject({ id: first.id, width: 80, height: 60 });

    // the other member reads it back over REST: private media, signed and expiring URLs
    const [read] = (await page(bob, direct)).filter((m) => m.id === sent.id);
    expect(ids(read!)).toEqual([second.id, first.id]);
    const media = read!.media[0] as Attachment & { urlsExpireAt: string };
    expect(media.variants.large.url).toMatch(/\?expires=\d+&sig=/);
    expect(Date.parse(media.urlsExpireAt)).toBeGreaterThan(Date.now());
    expect((await file(media.variants.large.url)).statusCode).toBe(200);
    expect((await file(media.variants.large.url.split('?')[0]!)).statusCode).toBe(403);

    // the conversation list and detail show the last message with its media
    const list = (await call(t, bob, 'GET', '/conversations')).json();
    const listed = list.items.find((c: { id: string }) => c.id === direct);
    expect(listed.lastMessage.media.map((a: Attachment) => a.id)).toEqual([second.id, first.id]);
    const detail = (await call(t, bob, 'GET', `/conversations/${direct}`)).json();
    expect(detail.lastMessage.media).toHaveLength(2);

    // a message without media has an empty list
    const plain: Message = (await send(alice, direct, { body: 'just text' })).json().message;
    expect(plain.media).toEqual([]);
  });

  it('sends a medium without text (attachment-only); blank text without media is refused', async () => {
    const medium = await uploadReady(t, alice, await png());
    const noBody = await send(alice, direct, { mediaIds: [medium.id] });
    expect(noBody.statusCode, noBody.body).toBe(201);
    expect(noBody.json().message).toMatchObject({ body: '', media: [{ id: medium.id }] });
    const other = await uploadReady(t, alice, await png());
    const blank = await send(alice, direct, { body: ' \u200b ', mediaIds: [other.id] });
    expect(blank.statusCode, blank.body).toBe(201);
    expect(blank.json().message.body).toBe('');

    for (const payload of [{}, { body: '' }, { body: '   ' }, { body: '', mediaIds: [] }]) {
      const res = await send(alice, direct, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    // a caption can be cleared by an edit only while the message has media
    const captioned: Message = (
      await send(alice, direct, {
        body: 'caption',
        mediaIds: [(await uploadReady(t, alice, await png())).id],
      })
    ).json().message;
    const cleared = await call(t, alice, 'PATCH', `/messages/${captioned.id}`, { body: '' });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json()).toMatchObject({ body: '', media: [{}] });
    const textOnly: Message = (await send(alice, direct, { body: 'words' })).json().message;
    const emptied = await call(t, alice, 'PATCH', `/messages/${textOnly.id}`, { body: '' });
    expect(emptied.statusCode).toBe(400);
  });

  it('refuses another user’s, unready, unknown or already attached media: 400 and nothing stored', async () => {
    const mine = await uploadReady(t, alice, await png());
    const theirs = await uploadReady(t, stranger, await png());
    const pending = (await upload(t, alice, await png())).json();
    const before = await page(alice, direct);
    const lastSeq = before[before.length - 1]!.seq;

    const cases = [[theirs.id], [mine.id, theirs.id], [pending.id], ['01890000-0000-7000-8000-000000000000']];
    for (const mediaIds of cases) {
      const res = await send(alice, direct, { clientMessageId: 'refused', body: 'x', mediaIds });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('MEDIA_NOT_ATTACHABLE');
    }
    expect((await send(alice, direct, { body: 'x', mediaIds: [mine.id, mine.id] })).statusCode).toBe(400);
    const five = [1, 2, 3, 4, 5].map((i) => `01890000-0000-7000-8000-00000000000${i}`);
    expect((await send(alice, direct, { body: 'x', mediaIds: five })).statusCode).toBe(400);

    // nothing stored: no message, no seq taken, the media still unattached, the client id still free
    const after = await page(alice, direct);
    expect(after[after.length - 1]!.seq).toBe(lastSeq);
    expect((await mediaView(stranger, theirs.id)).json().attached).toBe(false);
    expect((await mediaView(alice, mine.id)).json().attached).toBe(false);
    const ok = await send(alice, direct, { clientMessageId: 'refused', body: 'x', mediaIds: [mine.id] });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().message.seq).toBe(lastSeq + 1);

    // once attached, it cannot be attached again (nor by a post)
    const again = await send(alice, direct, { body: 'again', mediaIds: [mine.id] });
    expect(again.json().error.code).toBe('MEDIA_NOT_ATTACHABLE');
  });

  it('lets members, and no one else, read the medium; a member who leaves loses it', async () => {
    const carol = await createUser(t);
    const group = (await openConversation(t, alice, [bob, carol], 'trip')).id;
    const medium = await uploadReady(t, alice, await png());
    const sent: Message = (await send(alice, group, { body: 'pic', mediaIds: [medium.id] })).json().message;

    for (const member of [alice, bob, carol]) {
      const res = await mediaView(member, medium.id);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id: medium.id, attached: true });
      expect(res.json().variants.thumb.url).toMatch(/\?expires=\d+&sig=/);
    }
    expect((await mediaView(bob, medium.id)).json().fileName).toBe('');
    expect((await mediaView(stranger, medium.id)).statusCode).toBe(404);
    expect((await mediaView(undefined, medium.id)).statusCode).toBe(401);
    // nor can a non-member page the conversation to find the URLs
    expect((await call(t, stranger, 'GET', `/conversations/${group}/messages`)).statusCode).toBe(404);

    const left = await call(t, carol, 'DELETE', `/conversations/${group}/members/${carol.username}`);
    expect(left.statusCode, left.body).toBeLessThan(300);
    expect((await mediaView(carol, medium.id)).statusCode).toBe(404);
    expect((await mediaView(bob, medium.id)).statusCode).toBe(200);
    expect(sent.media).toHaveLength(1);
  });

  it('deleting the message deletes its media (rows and bytes) by a job', async () => {
    const medium = await uploadReady(t, alice, await png());
    const sent: Message = (await send(alice, direct, { body: 'ephemeral', mediaIds: [medium.id] })).json()
      .message;
    expect(existsSync(join(dataDir, 'media', medium.id))).toBe(true);
    const events = await connect(await listening(), bob.accessToken);

    const del = await call(t, alice, 'DELETE', `/messages/${sent.id}`);
    expect(del.statusCode, del.body).toBe(204);
    // shown deleted, without media, at once (before the job runs)
    const deleted = (await page(bob, direct)).find((m) => m.id === sent.id)!;
    expect(deleted).toMatchObject({ deleted: true, body: '', media: [] });
    const event = await events.waitFor('message.deleted', (e) => e.message.id === sent.id);
    expect(event.message.media).toEqual([]);
    expect((await mediaView(bob, medium.id)).statusCode).toBe(404);

    await runJobs(t);
    expect((await mediaView(alice, medium.id)).statusCode).toBe(404);
    expect(existsSync(join(dataDir, 'media', medium.id))).toBe(false);
    await events.close();
  });

  it('a retried clientMessageId with the same media returns the same message; other media → 422', async () => {
    const medium = await uploadReady(t, alice, await png());
    const payload = { clientMessageId: 'retry-1', body: 'once', mediaIds: [medium.id] };
    const first = await send(alice, direct, payload);
    expect(first.statusCode, first.body).toBe(201);
    const retry = await send(alice, direct, payload);
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json()).toMatchObject({ duplicate: true, message: { id: first.json().message.id } });
    expect(ids(retry.json().message)).toEqual([medium.id]);
    // in upper case, the same ids
    const upper = await send(alice, direct, { ...payload, mediaIds: [medium.id.toUpperCase()] });
    expect(upper.statusCode, upper.body).toBe(200);

    const other = await uploadReady(t, alice, await png());
    for (const mediaIds of [[other.id], [], [medium.id, other.id]]) {
      const res = await send(alice, direct, { ...payload, mediaIds });
      expect(res.statusCode, JSON.stringify(mediaIds)).toBe(422);
      expect(res.json().error.code).toBe('CLIENT_MESSAGE_ID_REUSED');
    }
    expect((await mediaView(alice, other.id)).json().attached).toBe(false);
  });

  it('loads a page’s media in a constant number of queries', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const small = (await openConversation(t, a, [b])).id;
    const large = (await openConversation(t, a, [b], 'many')).id;
    for (let i = 0; i < 2; i++) {
      await send(a, small, { mediaIds: [(await uploadReady(t, a, await png(8 + i, 8))).id] });
    }
    for (let i = 0; i < 12; i++) {
      await send(a, large, { mediaIds: [(await uploadReady(t, a, await png(8 + i, 8))).id] });
    }
    await page(b, small); // warm the session cache
    const costOf = async (conversationId: string) => {
      const before = await queriesRun();
      const items = await page(b, conversationId);
      expect(items.every((m) => m.media.length === 1)).toBe(true);
      return { count: items.length, queries: (await queriesRun()) - before };
    };
    const two = await costOf(small);
    const twelve = await costOf(large);
    expect([two.count, twelve.count]).toEqual([2, 12]);
    expect(two.queries).toBeGreaterThan(0);
    expect(twelve.queries).toBe(two.queries);
  });
});

describe('media over the socket', () => {
  it('message.send takes mediaIds; message.new and a resume replay carry the media', async () => {
    const base = await listening();
    const medium = await uploadReady(t, alice, await png());
    const [sa, sb] = [await connect(base, alice.accessToken), await connect(base, bob.accessToken)];
    sa.send({ type: 'message.send', conversationId: direct, clientMessageId: 'ws-1', mediaIds: [medium.id] });
    const ack = await sa.waitFor('message.ack', (e) => e.clientMessageId === 'ws-1');
    const live = await sb.waitFor('message.new', (e) => e.message.id === ack.id);
    expect(live.message.media.map((m) => m.id)).toEqual([medium.id]);
    expect(live.message.body).toBe('');

    const theirs = await uploadReady(t, stranger, await png());
    sa.send({
      type: 'message.send',
      conversationId: direct,
      clientMessageId: 'ws-2',
      body: 'x',
      mediaIds: [theirs.id],
    });
    expect(await sa.waitFor('error', (e) => e.clientMessageId === 'ws-2')).toMatchObject({
      code: 'MEDIA_NOT_ATTACHABLE',
    });
    sa.send({
      type: 'message.send',
      conversationId: direct,
      clientMessageId: 'ws-3',
      body: 'x',
      mediaIds: ['nope'],
    });
    expect(await sa.waitFor('error', (e) => e.clientMessageId === 'ws-3')).toMatchObject({
      code: 'VALIDATION_FAILED',
    });

    // a new device resumes from just before it: the replayed message carries its media
    const fresh = await connect(base, bob.accessToken);
    fresh.send({ type: 'resume', conversations: { [direct]: ack.seq - 1 } });
    const replayed = await fresh.waitFor('message.new', (e) => e.message.id === ack.id);
    expect(replayed.message.media.map((m) => m.id)).toEqual([medium.id]);
    await fresh.waitFor('resume.done');
    await Promise.all([sa.close(), sb.close(), fresh.close()]);
  });
});

let base: string | undefined;
/** The app listening on a free port, for sockets (once per file). */
async function listening(): Promise<string> {
  base ??= await t.app.listen({ host: '127.0.0.1', port: 0 });
  return base;
}
