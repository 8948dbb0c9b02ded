import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError, retryLater } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import type { PasswordHasher } from '../../platform/security/passwords.ts';
import { hashToken, newRefreshToken } from '../../platform/security/tokens.ts';
import type { AuditAction, AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { UsersService } from '../users/users.service.ts';
import { AuthChallengesRepository } from './auth-challenges.repository.ts';
import type { PasskeysService } from './passkeys.service.ts';
import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, totpStep, totpUri } from './totp.ts';
import type { TwoFactorMetrics } from './two-factor.metrics.ts';
import { TwoFactorRepository } from './two-factor.repository.ts';

/** The second-factor step of a login lives this long. */
export const CHALLENGE_TTL_SECONDS = 5 * 60;

export type SecondFactorMethod = 'totp' | 'recovery_code' | 'passkey';

/** What the password step answers when 2FA is on: no session yet, a token for the second step. */
export interface SecondFactorChallenge {
  challengeToken: string;
  expiresAt: Date;
  methods: SecondFactorMethod[];
}

/** A second factor as given: exactly one of these. */
export interface SecondFactorProof {
  code?: string | undefined;
  recoveryCode?: string | undefined;
  passkey?: unknown;
}

export interface TwoFactorDeps {
  db: Kysely<DB>;
  users: UsersService;
  audit: AuditService;
  passwords: PasswordHasher;
  passkeys: PasskeysService;
  metrics: TwoFactorMetrics;
  /** Wrong second factors in a row that lock the account… */
  maxFailures: number;
  /** …for this long. */
  lockMinutes: number;
}

export interface TwoFactorStatus {
  totpEnabled: boolean;
  totpEnabledAt: Date | null;
  recoveryCodesLeft: number;
  passkeys: number;
  lockedUntil: Date | null;
}

/**
 * TOTP (RFC 6238) with ten single-use recovery codes, and the second-factor step of a login (TOTP,
 * recovery code or passkey). A code's time step is accepted once, so a code seen by someone else
 * cannot be replayed within its window; wrong second factors are counted per account and lock it
 * for a while at the limit (audited).
 */
export class TwoFactorService {
  private readonly repo: TwoFactorRepository;
  private readonly challenges: AuthChallengesRepository;

  constructor(private readonly deps: TwoFactorDeps) {
    this.repo = new TwoFactorRepository(deps.db);
    this.challenges = new AuthChallengesRepository(deps.db);
  }

  async status(userId: string): Promise<TwoFactorStatus> {
    const [row, recoveryCodesLeft, passkeys] = await Promise.all([
      this.repo.get(userId),
      this.repo.recoveryCodesLeft(userId),
      this.deps.passkeys.count(userId),
    ]);
    return {
      totpEnabled: Boolean(row?.totp_enabled_at),
      totpEnabledAt: row?.totp_enabled_at ?? null,
      recoveryCodesLeft,
      passkeys,
      lockedUntil: row?.locked ? row.locked_until : null,
    };
  }

  /**
   * Starts (or restarts) an enrolment, with the password: a new secret, not in force until
   * confirmed with a code.
   */
  async setupTotp(auth: AuthContext, password: string): Promise<{ secret: string; uri: string }> {
    await this.checkPassword(auth.userId, password);
    const user = await this.deps.users.get(auth.userId);
    const secret = newTotpSecret();
    await this.deps.db.transaction().execute(async (trx) => {
      const row = await this.repo.lock(auth.userId, trx);
      if (row.totp_enabled_at) throw new AppError('TWO_FACTOR_ENABLED');
      await this.repo.setPending(auth.userId, secret, trx);
    });
    return { secret, uri: totpUri(secret, user.username) };
  }

  /** Turns TOTP on with a current code of the pending secret; returns the recovery codes, once. */
  async confirmTotp(auth: AuthContext, code: string, meta: RequestMeta): Promise<string[]> {
    const codes = newRecoveryCodes();
    await this.deps.db.transaction().execute(async (trx) => {
      const row = await this.repo.lock(auth.userId, trx);
      if (row.totp_enabled_at) throw new AppError('TWO_FACTOR_ENABLED');
      if (!row.totp_pending_secret) throw new AppError('TOTP_SETUP_MISSING');
      const step = totpStep(row.totp_pending_secret, code);
      if (step === undefined) throw new AppError('INVALID_SECOND_FACTOR');
      await this.repo.enable(auth.userId, step, trx);
      await this.repo.replaceRecoveryCodes(auth.userId, codes.map(hashRecoveryCode), trx);
      await this.audit('auth.two_factor_enable', auth.userId, meta, { method: 'totp' }, trx);
    });
    this.deps.metrics.changes.inc({ change: 'enable' });
    return codes;
  }

  /** Turns 2FA off: needs the password and a current code (or a recovery code). */
  async disable(auth: AuthContext, password: string, proof: SecondFactorProof, meta: RequestMeta) {
    await this.checkPassword(auth.userId, password);
    await this.requireEnabled(auth.userId);
    const method = await this.prove(auth.userId, proof, meta);
    await this.deps.db.transaction().execute(async (trx) => {
      await this.repo.lock(auth.userId, trx);
      await this.repo.disable(auth.userId, trx);
      await this.audit('auth.two_factor_disable', auth.userId, meta, { method }, trx);
    });
    this.deps.metrics.changes.inc({ change: 'disable' });
  }

  /** New recovery codes (the old ones stop working), with a current code or a recovery code. */
  async regenerateRecoveryCodes(auth: AuthContext, proof: SecondFactorProof, meta: RequestMeta) {
    await this.requireEnabled(auth.userId);
    const method = await this.prove(auth.userId, proof, meta);
    const codes = newRecoveryCodes();
    await this.deps.db.transaction().execute(async (trx) => {
      await this.repo.lock(auth.userId, trx);
      await this.repo.replaceRecoveryCodes(auth.userId, codes.map(hashRecoveryCode), trx);
      await this.audit('auth.recovery_codes_regenerate', auth.userId, meta, { method }, trx);
    });
    this.deps.metrics.changes.inc({ change: 'recovery_codes' });
    return codes;
  }

  /** Whether a sign-in with the right password must also give a second factor. */
  async required(userId: string): Promise<boolean> {
    const row = await this.repo.get(userId);
    return Boolean(row?.totp_enabled_at);
  }

  /** Until when wrong second factors keep the account locked (null when they do not). */
  async lockedUntil(userId: string): Promise<Date | null> {
    const row = await this.repo.get(userId);
    return row?.locked && row.locked_until ? row.locked_until : null;
  }

  /** The password was right and 2FA is on: a challenge for the second step (a locked account: 429). */
  async challenge(userId: string): Promise<SecondFactorChallenge> {
    const row = await this.repo.get(userId);
    if (row?.locked && row.locked_until) throw locked(row.locked_until);
    const token = newRefreshToken();
    const expiresAt = await this.challenges.insert({
      hash: hashToken(token),
      purpose: 'second_factor',
      userId,
      ttlSeconds: CHALLENGE_TTL_SECONDS,
    });
    const methods: SecondFactorMethod[] = ['totp', 'recovery_code'];
    if ((await this.deps.passkeys.count(userId)) > 0) methods.push('passkey');
    return { challengeToken: token, expiresAt, methods };
  }

  /** WebAuthn options for answering a login's second-factor step with a passkey. */
  async passkeyOptions(challengeToken: string) {
    const hash = hashToken(challengeToken);
    const challenge = await this.challenges.find(hash, 'second_factor');
    if (!challenge?.user_id) throw new AppError('INVALID_CHALLENGE');
    const options = await this.deps.passkeys.assertionOptions(challenge.user_id);
    if (!(await this.challenges.setWebauthnChallenge(hash, options.challenge)))
      throw new AppError('INVALID_CHALLENGE');
    return options;
  }

  /**
   * The second step of a login: checks the factor against the challenge's account and uses the
   * challenge up. Returns whose login it is; the caller starts the session.
   */
  async completeLogin(
    challengeToken: string,
    proof: SecondFactorProof,
    meta: RequestMeta,
  ): Promise<{ userId: string; method: SecondFactorMethod }> {
    const hash = hashToken(challengeToken);
    const challenge = await this.challenges.find(hash, 'second_factor');
    if (!challenge?.user_id) throw new AppError('INVALID_CHALLENGE');
    const method = await this.prove(challenge.user_id, proof, meta, challenge.webauthn_challenge);
    if (!(await this.challenges.claim(hash, 'second_factor'))) throw new AppError('INVALID_CHALLENGE');
    this.deps.metrics.secondFactor.inc({ method, outcome: 'success' });
    return { userId: challenge.user_id, method };
  }

  private async checkPassword(userId: string, password: string): Promise<void> {
    const stored = await this.deps.users.passwordHash(userId);
    if (!stored || !(await this.deps.passwords.verify(stored, password)))
      throw new AppError('WRONG_PASSWORD');
  }

  private async requireEnabled(userId: string): Promise<void> {
    if (!(await this.required(userId))) throw new AppError('TWO_FACTOR_NOT_ENABLED');
  }

  /**
   * Checks one second factor of the user: refused at once while the account is locked; a wrong
   * one is counted (and audited), the limit's one locks the account.
   */
  private async prove(
    userId: string,
    proof: SecondFactorProof,
    meta: RequestMeta,
    webauthnChallenge?: string | null,
  ): Promise<SecondFactorMethod> {
    const given = [proof.code, proof.recoveryCode, proof.passkey].filter((p) => p !== undefined);
    if (given.length !== 1)
      throw new AppError('BAD_REQUEST', 'Give exactly one of code, recoveryCode and passkey.');
    const method: SecondFactorMethod =
      proof.code !== undefined ? 'totp' : proof.recoveryCode !== undefined ? 'recovery_code' : 'passkey';
    const row = await this.repo.get(userId);
    if (row?.locked && row.locked_until) {
      this.deps.metrics.secondFactor.inc({ method, outcome: 'locked' });
      throw locked(row.locked_until);
    }
    let right = false;
    if (method === 'totp' && row?.totp_secret) {
      const step = totpStep(row.totp_secret, proof.code as string);
      right = step !== undefined && (await this.repo.useStep(userId, step));
    } else if (method === 'recovery_code' && row?.totp_enabled_at) {
      right = await this.repo.useRecoveryCode(userId, hashRecoveryCode(proof.recoveryCode as string));
      if (right) await this.audit('auth.recovery_code_used', userId, meta, {});
    } else if (method === 'passkey' && webauthnChallenge) {
      right = await this.deps.passkeys.verifyAssertion(userId, proof.passkey, webauthnChallenge);
    }
    if (right) {
      await this.repo.succeed(userId);
      return method;
    }
    const lockedNow = await this.repo.fail(userId, this.deps.maxFailures, this.deps.lockMinutes);
    await this.audit('auth.second_factor_failed', userId, meta, { method });
    this.deps.metrics.secondFactor.inc({ method, outcome: 'failure' });
    if (lockedNow) {
      await this.audit('auth.second_factor_locked', userId, meta, {
        failures: this.deps.maxFailures,
        minutes: this.deps.lockMinutes,
      });
      this.deps.metrics.changes.inc({ change: 'locked' });
    }
    throw new AppError('INVALID_SECOND_FACTOR');
  }

  private audit(
    action: AuditAction,
    userId: string,
    meta: RequestMeta,
    details: Record<string, unknown>,
    trx?: Kysely<DB>,
  ): Promise<void> {
    return this.deps.audit.record(
      { action, actorId: userId, target: { type: 'user', id: userId }, meta, details },
      trx,
    );
  }
}

/** The answer to a sign-in while wrong second factors keep the account locked: 429 with Retry-After. */
export function locked(until: Date): AppError {
  return retryLater('SECOND_FACTOR_LOCKED', until.getTime() - Date.now());
}
