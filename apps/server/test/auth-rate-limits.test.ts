import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, uniqueUsername } from './helpers/factories.ts';

// Tiny limits so that the auth routes' own policies show (the limiter itself is tested elsewhere).
const { app } = await buildTestApp({
  RATE_LIMIT_LOGIN_ACCOUNT: '2',
  RATE_LIMIT_LOGIN_IP: '5',
  RATE_LIMIT_SIGNUP_IP: '4',
});

const attempt = (login: string, ip = '127.0.0.1') =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { login, password: 'wrong password' },
    remoteAddress: ip,
  });

describe('auth rate limits', () => {
  it('limits logins per account (whatever the case of the login) and per IP', async () => {
    const user = await createUser(app);
    expect((await attempt(user.username)).statusCode).toBe(401);
    expect((await attempt(user.username.toUpperCase())).statusCode).toBe(401);
    const limited = await attempt(` ${user.username} `);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
    // another account from the same IP is still allowed until the per-IP limit
    expect((await attempt(uniqueUsername())).statusCode).toBe(401);
    expect((await attempt(uniqueUsername())).statusCode).toBe(401);
    expect((await attempt(uniqueUsername())).statusCode).toBe(429);
  });

  it('limits signups per IP', async () => {
    const ip = '10.9.8.7';
    const signup = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        remoteAddress: ip,
        payload: {
          username: uniqueUsername(),
          email: `${uniqueUsername()}@example.com`,
          password: 'correct horse battery',
        },
      });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await signup()).statusCode);
    expect(codes).toEqual([201, 201, 201, 201, 429]);
  });
});
