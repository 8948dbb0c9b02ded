import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { authKit } from '../src/modules/auth/auth-kit.ts';
import { loadKeyRing, publicJwk } from '../src/platform/security/keys.ts';
import { AccessTokens } from '../src/platform/security/tokens.ts';
import { buildTestApp } from './helpers/app.ts';
import { bearer, createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';

// The app signs with a new key and still accepts tokens of the previous one (rotation).
const oldRing = await loadKeyRing({ signingKey: undefined, verifyKeys: undefined, generateIn: undefined });
const newKeyPem = generateKeyPairSync('ed25519').privateKey.export({
  format: 'pem',
  type: 'pkcs8',
}) as string;
const t = await buildTestApp({
  ...GENEROUS_AUTH_LIMITS,
  JWT_SIGNING_KEY: newKeyPem,
  JWT_VERIFY_KEYS: JSON.stringify([publicJwk(oldRing)]),
});
const { app } = t;
const kit = await authKit(t.platform);
const user = await createUser(app);
const claims = (await kit.tokens.verify(user.accessToken)) as { userId: string; sessionId: string };

const me = (token: string) => app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const goodPayload = () => ({
  iss: 'kith',
  aud: 'kith-api',
  sub: claims.userId,
  sid: claims.sessionId,
  iat: now(),
  exp: now() + 600,
});

async function refused(token: string) {
  const res = await me(token);
  expect(res.statusCode).toBe(401);
  expect(res.json().error.code).toBe('INVALID_TOKEN');
}

describe('access tokens', () => {
  it('are EdDSA at+jwt with kid = the RFC 7638 thumbprint and iss/aud/sub/sid/iat/exp', async () => {
    const [header, payload] = user.accessToken
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: kit.keys.kid });
    const { kty, crv, x } = createPublicKey(newKeyPem).export({ format: 'jwk' });
    expect(kit.keys.kid).toBe(await calculateJwkThumbprint({ kty: kty!, crv: crv!, x: x! }));
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'sid', 'sub']);
    expect(payload.exp - payload.iat).toBe(900);
    expect((await me(user.accessToken)).statusCode).toBe(200);
  });

  it('refuses alg none', async () => {
    await refused(`${b64({ alg: 'none', typ: 'at+jwt', kid: kit.keys.kid })}.${b64(goodPayload())}.`);
  });

  it('refuses HS256 signed with the public key bytes', async () => {
    const publicKey = createPublicKey(kit.keys.privateKey);
    for (const secret of [
      Buffer.from(publicKey.export({ format: 'pem', type: 'spki' }) as string),
      publicKey.export({ format: 'der', type: 'spki' }),
      Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'),
    ]) {
      const token = await new SignJWT(goodPayload())
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: kit.keys.kid })
        .sign(new Uint8Array(secret));
      await refused(token);
    }
  });

  const signed = (
    payload: Record<string, unknown>,
    header: Record<string, unknown> = {},
    key = kit.keys.privateKey,
  ) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: kit.keys.kid, ...header })
      .sign(key);

  it('accepts a hand-made token with the right claims (the cases below differ in one thing each)', async () => {
    expect((await me(await signed(goodPayload()))).statusCode).toBe(200);
  });

  it('refuses a wrong aud, a wrong iss and a missing sid', async () => {
    await refused(await signed({ ...goodPayload(), aud: 'someone-else' }));
    await refused(await signed({ ...goodPayload(), iss: 'someone-else' }));
    const { sid: _sid, ...noSid } = goodPayload();
    await refused(await signed(noSid));
  });

  it('refuses a wrong or missing typ', async () => {
    await refused(await signed(goodPayload(), { typ: 'JWT' }));
    await refused(await signed(goodPayload(), { typ: undefined }));
  });

  it('refuses an expired token', async () => {
    const old = await kit.tokens.sign(claims, new Date(Date.now() - 3600_000));
    await refused(old.token);
  });

  it('refuses a refresh token used as an access token, and malformed headers', async () => {
    await refused(user.refreshToken);
    for (const authorization of [
      'Bearer',
      'Bearer a b',
      'Basic dXNlcjpwYXNz',
      `bearer ${'x'.repeat(5000)}`,
    ]) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization } });
      expect(res.statusCode).toBe(401);
    }
  });

  it('refuses a token signed by an unknown key, or naming an unknown kid', async () => {
    const stranger = generateKeyPairSync('ed25519').privateKey;
    await refused(await signed(goodPayload(), {}, stranger));
    await refused(await signed(goodPayload(), { kid: 'nope' }));
  });

  it('accepts a token of the previous key during rotation', async () => {
    const fromOldKey = await new AccessTokens(oldRing, {
      issuer: 'kith',
      audience: 'kith-api',
      ttlSeconds: 900,
    }).sign(claims, new Date());
    expect(fromOldKey.token.split('.')[0]).not.toBe(user.accessToken.split('.')[0]);
    expect((await me(fromOldKey.token)).statusCode).toBe(200);
  });

  it('refuses a valid signature for a session that is not the subject’s', async () => {
    const other = await createUser(app);
    const otherClaims = await kit.tokens.verify(other.accessToken);
    await refused(await signed({ ...goodPayload(), sid: otherClaims.sessionId }));
    await refused(await signed({ ...goodPayload(), sid: 'not-a-uuid' }));
  });
});
