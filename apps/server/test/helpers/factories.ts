import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { UserRole } from '../../src/platform/db/schema.ts';
import type { TestApp } from './app.ts';

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  role: UserRole;
  accessToken: string;
  refreshToken: string;
  /** `{ authorization: 'Bearer …' }`, ready for app.inject's headers. */
  headers: { authorization: string };
}

export interface UserOverrides {
  username?: string;
  email?: string;
  password?: string;
  displayName?: string;
  /** Other than 'user' needs a TestApp (the role is set in the database, then the user signs in). */
  role?: UserRole;
}

/** A unique, valid username. */
export const uniqueUsername = (prefix = 'u') => `${prefix}_${randomBytes(6).toString('hex')}`;

/**
 * Signs a user up over HTTP (and, for staff roles, promotes them in the database and signs in
 * again so the tokens carry a session with the role). Example: `await createUser(t, { role: 'admin' })`.
 */
export async function createUser(
  target: TestApp | FastifyInstance,
  overrides: UserOverrides = {},
): Promise<TestUser> {
  const app = 'app' in target ? target.app : target;
  const username = overrides.username ?? uniqueUsername();
  const email = overrides.email ?? `${username}@example.com`;
  const password = overrides.password ?? `pw-${randomBytes(8).toString('hex')}`;
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/signup',
    payload: {
      username,
      email,
      password,
      ...(overrides.displayName ? { displayName: overrides.displayName } : {}),
    },
  });
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  let tokens = { accessToken: body.accessToken as string, refreshToken: body.refreshToken as string };
  const role = overrides.role ?? 'user';
  if (role !== 'user') {
    if (!('platform' in target)) throw new Error('createUser with a role needs the TestApp');
    await target.platform.db.primary
      .updateTable('users')
      .set({ role })
      .where('id', '=', body.user.id)
      .execute();
    tokens = await login(app, username, password);
  }
  return {
    id: body.user.id,
    username: body.user.username,
    email: body.user.email,
    password,
    role,
    ...tokens,
    headers: { authorization: `Bearer ${tokens.accessToken}` },
  };
}

/** Signs in over HTTP; returns the new pair. */
export async function login(
  app: FastifyInstance,
  loginName: string,
  password: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { login: loginName, password },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const { accessToken, refreshToken } = res.json();
  return { accessToken, refreshToken };
}

/** `{ authorization: 'Bearer <token>' }` */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** buildTestApp env that lifts the signup and login limits (a test file signs up many users from one IP). */
export const GENEROUS_AUTH_LIMITS = {
  RATE_LIMIT_SIGNUP_IP: '1000000',
  RATE_LIMIT_LOGIN_IP: '1000000',
  RATE_LIMIT_LOGIN_ACCOUNT: '10000',
} as const;
