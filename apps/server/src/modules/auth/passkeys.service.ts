import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import type { PasswordHasher } from '../../platform/security/passwords.ts';
import { hashToken, newRefreshToken } from '../../platform/security/tokens.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { UsersService } from '../users/users.service.ts';
import { AuthChallengesRepository } from './auth-challenges.repository.ts';
import { type PasskeyRow, PasskeysRepository } from './passkeys.repository.ts';
import type { TwoFactorMetrics } from './two-factor.metrics.ts';

/** A WebAuthn ceremony (its challenge) lives this long. */
const CEREMONY_TTL_SECONDS = 5 * 60;
const MAX_PASSKEYS = 20;

export interface PasskeysDeps {
  db: Kysely<DB>;
  users: UsersService;
  passwords: PasswordHasher;
  audit: AuditService;
  metrics: TwoFactorMetrics;
  /** The web app's URL (PUBLIC_URL): its origin is the expected origin, its host the RP id. */
  publicUrl: string;
}

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  backedUp: boolean;
}

const present = (row: PasskeyRow): PasskeyView => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  backedUp: row.backed_up,
});

/**
 * @simplewebauthn/server, loaded at the first passkey ceremony: its crypto and ASN.1 dependencies
 * take about a second to import on a busy machine, which start-up (every process, every role)
 * should not pay for a feature most requests never touch.
 */
let webauthnLib: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthn = () => {
  webauthnLib ??= import('@simplewebauthn/server');
  return webauthnLib;
};

/** The authenticator transports WebAuthn knows; anything else a client sends is dropped. */
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

/**
 * Passkeys (WebAuthn, through @simplewebauthn/server): enrolment, the list, and their use as a
 * second factor or as a password-less login. The relying party is PUBLIC_URL: an assertion made
 * for another origin or RP id is refused.
 */
export class PasskeysService {
  private readonly repo: PasskeysRepository;
  private readonly challenges: AuthChallengesRepository;
  readonly rpId: string;
  readonly origin: string;

  constructor(private readonly deps: PasskeysDeps) {
    this.repo = new PasskeysRepository(deps.db);
    this.challenges = new AuthChallengesRepository(deps.db);
    const url = new URL(deps.publicUrl);
    this.rpId = url.hostname;
    this.origin = url.origin;
  }

  count(userId: string): Promise<number> {
    return this.repo.count(userId);
  }

  async list(auth: AuthContext): Promise<PasskeyView[]> {
    return (await this.repo.listOf(auth.userId)).map(present);
  }

  /**
   * Options for navigator.credentials.create(), and the id of the ceremony to finish it with. Needs
   * the password: a passkey signs in alone, so a stolen session must not be able to add one.
   */
  async registrationOptions(auth: AuthContext, password: string) {
    const stored = await this.deps.users.passwordHash(auth.userId);
    if (!stored || !(await this.deps.passwords.verify(stored, password)))
      throw new AppError('WRONG_PASSWORD');
    const user = await this.deps.users.get(auth.userId);
    const existing = await this.repo.listOf(auth.userId);
    if (existing.length >= MAX_PASSKEYS) throw new AppError('PASSKEY_LIMIT');
    const { generateRegistrationOptions } = await webauthn();
    const options = await generateRegistrationOptions({
      rpName: 'Kith',
      rpID: this.rpId,
      userName: user.username,
      userDisplayName: user.display_name || user.username,
      // the user handle: the account id's bytes (no personal data)
      userID: new Uint8Array(Buffer.from(user.id.replaceAll('-', ''), 'hex')),
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: p.transports })),
      // discoverable, so it can sign in without a username
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
    const challengeId = await this.ceremony('passkey_register', auth.userId, options.challenge);
    return { challengeId, options };
  }

  /** Finishes an enrolment: verifies the attestation against the ceremony and stores the key. */
  async register(
    auth: AuthContext,
    challengeId: string,
    name: string,
    response: unknown,
    meta: RequestMeta,
  ): Promise<PasskeyView> {
    const challenge = await this.challenges.claim(hashToken(challengeId), 'passkey_register');
    if (!challenge?.webauthn_challenge || challenge.user_id !== auth.userId)
      throw new AppError('INVALID_CHALLENGE');
    const { verifyRegistrationResponse } = await webauthn();
    const verification = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: challenge.webauthn_challenge,
      expectedOrigin: this.origin,
      expectedRPID: this.rpId,
      requireUserVerification: false,
    }).catch(() => undefined);
    if (!verification?.verified) throw new AppError('PASSKEY_REFUSED');
    const info = verification.registrationInfo;
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const inserted = await this.repo.insert({
        id: uuidv7(),
        userId: auth.userId,
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey),
        counter: info.credential.counter,
        transports: (info.credential.transports ?? []).filter((t) => TRANSPORTS.has(t)),
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        name: name.trim(),
      });
      if (!inserted) throw new AppError('CONFLICT', 'This passkey is registered already.');
      await this.deps.audit.record(
        {
          action: 'auth.passkey_add',
          actorId: auth.userId,
          target: { type: 'passkey', id: inserted.id },
          meta,
          details: { name: inserted.name },
        },
        trx,
      );
      return inserted;
    });
    this.deps.metrics.changes.inc({ change: 'passkey_add' });
    return present(row);
  }

  async rename(auth: AuthContext, id: string, name: string, meta: RequestMeta): Promise<PasskeyView> {
    const row = await this.repo.rename(auth.userId, id, name.trim());
    if (!row) throw new AppError('NOT_FOUND');
    await this.deps.audit.record({
      action: 'auth.passkey_rename',
      actorId: auth.userId,
      target: { type: 'passkey', id },
      meta,
      details: { name: row.name },
    });
    return present(row);
  }

  async remove(auth: AuthContext, id: string, meta: RequestMeta): Promise<void> {
    if (!(await this.repo.remove(auth.userId, id))) throw new AppError('NOT_FOUND');
    await this.deps.audit.record({
      action: 'auth.passkey_remove',
      actorId: auth.userId,
      target: { type: 'passkey', id },
      meta,
    });
    this.deps.metrics.changes.inc({ change: 'passkey_remove' });
  }

  /** Options for navigator.credentials.get() naming the user's passkeys (the second factor). */
  async assertionOptions(userId: string) {
    const keys = await this.repo.listOf(userId);
    if (keys.length === 0) throw new AppError('NOT_FOUND', 'This account has no passkey.');
    const { generateAuthenticationOptions } = await webauthn();
    return generateAuthenticationOptions({
      rpID: this.rpId,
      allowCredentials: keys.map((p) => ({ id: p.credential_id, transports: p.transports })),
      userVerification: 'preferred',
    });
  }

  /** Whether an assertion was made by one of the user's passkeys for this challenge, origin and RP id. */
  async verifyAssertion(userId: string, response: unknown, expectedChallenge: string): Promise<boolean> {
    const key = await this.check(response, expectedChallenge, false);
    return key?.user_id === userId;
  }

  /** Options for a password-less sign-in: any discoverable passkey of this site. */
  async loginOptions() {
    const { generateAuthenticationOptions } = await webauthn();
    const options = await generateAuthenticationOptions({ rpID: this.rpId, userVerification: 'required' });
    const challengeId = await this.ceremony('passkey_login', null, options.challenge);
    return { challengeId, options };
  }

  /**
   * A password-less sign-in: a passkey with user verification counts as both factors. Returns
   * whose it is; the caller starts the session.
   */
  async login(challengeId: string, response: unknown): Promise<string> {
    const challenge = await this.challenges.claim(hashToken(challengeId), 'passkey_login');
    if (!challenge?.webauthn_challenge) throw new AppError('INVALID_CHALLENGE');
    const key = await this.check(response, challenge.webauthn_challenge, true);
    this.deps.metrics.passkeyLogins.inc({ outcome: key ? 'success' : 'failure' });
    if (!key) throw new AppError('PASSKEY_REFUSED');
    return key.user_id;
  }

  private async check(
    response: unknown,
    expectedChallenge: string,
    requireUserVerification: boolean,
  ): Promise<PasskeyRow | undefined> {
    const assertion = response as AuthenticationResponseJSON;
    const key = await this.repo.byCredentialId(assertion.id);
    if (!key) return undefined;
    const { verifyAuthenticationResponse } = await webauthn();
    const result = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge,
      expectedOrigin: this.origin,
      expectedRPID: this.rpId,
      credential: {
        id: key.credential_id,
        publicKey: new Uint8Array(key.public_key),
        counter: Number(key.counter),
        transports: key.transports,
      },
      requireUserVerification,
    }).catch(() => undefined);
    if (!result?.verified) return undefined;
    await this.repo.used(key.id, result.authenticationInfo.newCounter);
    return key;
  }

  private async ceremony(
    purpose: 'passkey_register' | 'passkey_login',
    userId: string | null,
    webauthnChallenge: string,
  ): Promise<string> {
    const id = newRefreshToken();
    await this.challenges.insert({
      hash: hashToken(id),
      purpose,
      userId,
      webauthnChallenge,
      ttlSeconds: CEREMONY_TTL_SECONDS,
    });
    return id;
  }
}
