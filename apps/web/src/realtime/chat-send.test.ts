import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json } from '../test/render-route.tsx';
import { newClientMessageId, outgoing, sendChatMessage } from './chat-send.ts';
import { chatStore } from './realtime.ts';

const CONVERSATION = '01900000-0000-7000-8000-000000000001';
const stored = (clientMessageId: string, body: string, seq: number) => ({
  id: `01900000-0000-7000-8000-00000000010${seq}`,
  conversationId: CONVERSATION,
  seq,
  senderId: '01900000-0000-7000-8000-0000000000aa',
  clientMessageId,
  body,
  media: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  editedAt: null,
  deleted: false,
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('sendChatMessage (no live socket: over HTTP)', () => {
  it('is pending until stored; a 503 is retried with the same clientMessageId; the message lands in the log once', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // no backoff wait in the test
    let calls = 0;
    const server = fakeServer(async (request, url) => {
      if (request.method !== 'POST' || !url.pathname.endsWith('/messages')) return undefined;
      calls++;
      if (calls === 1)
        return apiError(503, 'DATABASE_UNAVAILABLE', 'Try again shortly.', { 'retry-after': '1' });
      const body = (await request.clone().json()) as { clientMessageId: string; body: string };
      return json(201, { message: stored(body.clientMessageId, body.body, 7), duplicate: false });
    });
    const clientMessageId = newClientMessageId();
    const sending = sendChatMessage({ conversationId: CONVERSATION, clientMessageId, body: 'hello' });
    expect(outgoing.get(clientMessageId)?.status).toBe('pending');
    await sending;
    expect(outgoing.get(clientMessageId)?.status).toBe('sent');
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts.map((r) => (r.body as { clientMessageId: string }).clientMessageId)).toEqual([
      clientMessageId,
      clientMessageId,
    ]);
    expect(
      chatStore
        .log(CONVERSATION)
        .list()
        .filter((m) => m.clientMessageId === clientMessageId),
    ).toHaveLength(1);
  });

  it('a refusal (4xx) is failed with the server’s message; trying again keeps the id', async () => {
    let refuse = true;
    const server = fakeServer(async (request) => {
      if (request.method !== 'POST') return undefined;
      const body = (await request.clone().json()) as { clientMessageId: string; body: string };
      return refuse
        ? apiError(422, 'VALIDATION_FAILED', 'body must not be blank.')
        : json(201, { message: stored(body.clientMessageId, body.body, 8), duplicate: true });
    });
    const clientMessageId = newClientMessageId();
    await sendChatMessage({ conversationId: CONVERSATION, clientMessageId, body: 'x' });
    expect(outgoing.get(clientMessageId)).toMatchObject({ status: 'failed' });
    expect(outgoing.get(clientMessageId)?.error?.message).toBe('body must not be blank.');
    expect(
      outgoing.inConversation(CONVERSATION).some((e) => e.draft.clientMessageId === clientMessageId),
    ).toBe(true);

    refuse = false;
    await sendChatMessage(outgoing.get(clientMessageId)!.draft);
    expect(outgoing.get(clientMessageId)?.status).toBe('sent');
    const ids = server.requests.map((r) => (r.body as { clientMessageId: string }).clientMessageId);
    expect(ids).toEqual([clientMessageId, clientMessageId]);

    outgoing.discard(clientMessageId);
    expect(outgoing.get(clientMessageId)).toBeUndefined();
  });
});
