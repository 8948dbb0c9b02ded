import { expect } from 'vitest';
import type { TestApp } from './app.ts';
import type { TestUser } from './factories.ts';

/** Makes two users friends over HTTP (request + accept). */
export async function befriend(t: TestApp, a: TestUser, b: TestUser): Promise<void> {
  const sent = await t.app.inject({
    method: 'POST',
    url: '/api/v1/friend-requests',
    headers: a.headers,
    payload: { username: b.username },
  });
  expect(sent.statusCode).toBe(201);
  const accepted = await t.app.inject({
    method: 'POST',
    url: `/api/v1/friend-requests/${sent.json().request.id}/accept`,
    headers: b.headers,
  });
  expect(accepted.statusCode).toBe(204);
}

/** Publishes a post over HTTP and returns its body. */
export async function createPost(
  t: TestApp,
  author: TestUser,
  text: string,
  visibility: 'public' | 'friends' | 'private' = 'friends',
) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/posts',
    headers: author.headers,
    payload: { text, visibility },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

export const get = (t: TestApp, user: TestUser, url: string) =>
  t.app.inject({ method: 'GET', url, headers: user.headers });
