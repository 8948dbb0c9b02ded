import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser } from './helpers/factories.ts';
import { connect, upgradeStatus } from './helpers/ws-client.ts';

describe('realtime and roles', () => {
  it('the api role opens no sockets and issues no tickets', async () => {
    const t = await buildTestApp({ KITH_ROLES: 'api' });
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const user = await createUser(t);
    expect(await upgradeStatus(base, undefined)).toEqual({ status: 404, code: 'ROUTE_NOT_FOUND' });
    const ticket = await t.app.inject({
      method: 'POST',
      url: '/api/v1/realtime/ticket',
      headers: user.headers,
    });
    expect(ticket.statusCode).toBe(404);
    await t.close();
  });

  it('the realtime role alone serves the gateway without the API routes', async () => {
    const t = await buildTestApp({ KITH_ROLES: 'realtime' });
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    expect(await upgradeStatus(base, undefined)).toEqual({ status: 401, code: 'INVALID_TICKET' });
    const signup = await t.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: {} });
    expect(signup.statusCode).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/realtime/ticket' })).statusCode).toBe(401);
    await t.close();
  });

  it('closes every socket with 1012 on graceful shutdown', async () => {
    const t = await buildTestApp();
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const user = await createUser(t);
    const sockets = [await connect(base, user.accessToken), await connect(base, user.accessToken)];
    await t.close();
    for (const socket of sockets) expect((await socket.closed).code).toBe(1012);
  });
});
