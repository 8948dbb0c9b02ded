import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { startSmtp } from './helpers/mail.ts';

// A suspended account learns why from its own account view (GET /me and every sign-in answer):
// until when, the moderator's reason, the decision to appeal and whether it still may.
const smtp = await startSmtp();
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, ...smtp.env });
const db = t.platform.db.primary;
const mod = await createUser(t, { role: 'moderator' });
const mod2 = await createUser(t, { role: 'moderator' });

const api = (user: TestUser | undefined, method: string, url: string, payload?: unknown) =>
  t.app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: user?.headers ?? {},
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
const me = async (user: TestUser) => (await api(user, 'GET', '/me')).json();

describe('Me.suspension', () => {
  it('tells a suspended user until when, why, and whether they may still appeal; gone once lifted', async () => {
    const [author, reporter] = [await createUser(t), await createUser(t)];
    expect((await me(author)).suspension).toBeNull();
    const filed = await api(reporter, 'POST', '/reports', {
      targetType: 'user',
      targetId: author.id,
      reason: 'harassment',
    });
    expect(filed.statusCode, filed.body).toBe(201);
    const { id } = await db
      .selectFrom('report_cases')
      .select('id')
      .where('target_id', '=', author.id)
      .executeTakeFirstOrThrow();
    const decided = await api(mod, 'POST', `/moderation/cases/${id}/resolve`, {
      action: 'suspend',
      note: 'Harassment of <b>another</b> member.',
      durationHours: 24,
    });
    expect(decided.statusCode, decided.body).toBe(200);
    const until = decided.json().resolution.suspendedUntil;

    const expected = {
      until,
      caseId: id,
      reason: 'Harassment of <b>another</b> member.',
      appeal: 'available',
    };
    expect((await me(author)).suspension).toEqual(expected);
    // the sign-in answer carries it too (the web app keeps that copy)
    const login = await api(undefined, 'POST', '/auth/login', {
      login: author.username,
      password: author.password,
    });
    expect(login.statusCode, login.body).toBe(200);
    expect(login.json().user.suspension).toEqual(expected);
    // and a write says the same
    const refused = await api(author, 'POST', '/posts', { text: 'hi', visibility: 'public' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'ACCOUNT_SUSPENDED', details: { until } });

    expect(
      (await api(author, 'POST', `/moderation/notices/${id}/appeal`, { text: 'Please look again.' }))
        .statusCode,
    ).toBe(200);
    expect((await me(author)).suspension).toEqual({ ...expected, appeal: 'pending' });
    const upheld = await api(mod2, 'POST', `/moderation/cases/${id}/resolve`, { action: 'uphold' });
    expect(upheld.statusCode, upheld.body).toBe(200);
    expect((await me(author)).suspension).toMatchObject({ until, caseId: id, appeal: 'decided' });
  });

  it('is the bare end when no decision is on record, and null once the time has passed', async () => {
    const user = await createUser(t);
    const until = new Date(Date.now() + 3_600_000);
    await t.services.users.suspend(user.id, until);
    expect((await me(user)).suspension).toEqual({
      until: until.toISOString(),
      caseId: null,
      reason: null,
      appeal: null,
    });
    await t.services.users.suspend(user.id, new Date(Date.now() - 1000));
    expect((await me(user)).suspension).toBeNull();
  });
});
