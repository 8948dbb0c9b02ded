import { expect } from 'vitest';
import type { TestApp } from './app.ts';
import type { TestUser } from './factories.ts';

type Json = Record<string, unknown>;

/** `app.inject` under /api/v1 as `user` (anonymous without one). */
export const call = (
  t: TestApp,
  user: TestUser | undefined,
  method: string,
  url: string,
  payload?: unknown,
) =>
  t.app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: user?.headers ?? {},
    ...(payload === undefined ? {} : { payload: payload as Json }),
  });

/** Opens a conversation over HTTP (direct with one username and no title, else a group); returns its body. */
export async function openConversation(t: TestApp, creator: TestUser, others: TestUser[], title?: string) {
  const res = await call(t, creator, 'POST', '/conversations', {
    usernames: others.map((u) => u.username),
    ...(title === undefined ? {} : { title }),
  });
  expect([200, 201], res.body).toContain(res.statusCode);
  return res.json() as {
    id: string;
    kind: 'direct' | 'group';
    members: { user: { id: string }; role: string }[];
  };
}

/** Sends a message over HTTP; returns the stored message. */
export async function sendMessage(
  t: TestApp,
  sender: TestUser,
  conversationId: string,
  body: string,
  clientMessageId?: string,
) {
  const res = await call(t, sender, 'POST', `/conversations/${conversationId}/messages`, {
    clientMessageId: clientMessageId ?? `c-${Math.random().toString(36).slice(2)}`,
    body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().message as { id: string; seq: number; body: string; conversationId: string };
}
