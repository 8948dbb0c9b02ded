import { Type } from 'typebox';
import { Timestamp, Uuid } from '../../platform/http/schemas.ts';
import { PASSWORD_MAX_LENGTH } from '../../platform/security/passwords.ts';

/** base64url, as WebAuthn JSON carries binary fields. */
const B64 = (maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+={0,2}$' });
/** A one-time token (challenge or ceremony id): 43 base64url characters. */
const ChallengeToken = Type.String({ minLength: 1, maxLength: 128 });
const TotpCode = Type.String({
  pattern: '^[0-9]{6}$',
  maxLength: 6,
  description: 'The 6-digit code of the app',
});
const RecoveryCode = Type.String({
  minLength: 1,
  maxLength: 40,
  description: 'One of the recovery codes, with or without dashes',
});
const PasskeyName = Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' });
const Method = Type.Union([Type.Literal('totp'), Type.Literal('recovery_code'), Type.Literal('passkey')]);

const ClientExtensionResults = Type.Object(
  {
    credProps: Type.Optional(
      Type.Object({ rk: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
const Attachment = Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]));

/** What navigator.credentials.create() gave (as @simplewebauthn/browser encodes it). */
export const RegistrationResponse = Type.Object(
  {
    id: B64(1400),
    rawId: B64(1400),
    response: Type.Object(
      {
        clientDataJSON: B64(4096),
        attestationObject: B64(16_384),
        authenticatorData: Type.Optional(B64(16_384)),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
        publicKeyAlgorithm: Type.Optional(Type.Integer()),
        publicKey: Type.Optional(B64(4096)),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Attachment,
    clientExtensionResults: ClientExtensionResults,
    type: Type.Literal('public-key'),
  },
  { additionalProperties: false },
);

/** What navigator.credentials.get() gave (as @simplewebauthn/browser encodes it). */
export const AuthenticationResponse = Type.Object(
  {
    id: B64(1400),
    rawId: B64(1400),
    response: Type.Object(
      {
        clientDataJSON: B64(4096),
        authenticatorData: B64(16_384),
        signature: B64(2048),
        userHandle: Type.Optional(B64(256)),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Attachment,
    clientExtensionResults: ClientExtensionResults,
    type: Type.Literal('public-key'),
  },
  { additionalProperties: false },
);

const Descriptor = Type.Object(
  { id: Type.String(), type: Type.String(), transports: Type.Optional(Type.Array(Type.String())) },
  { additionalProperties: true },
);

/** Options for navigator.credentials.create() (PublicKeyCredentialCreationOptionsJSON). */
export const CreationOptions = Type.Object(
  {
    rp: Type.Object(
      { name: Type.String(), id: Type.Optional(Type.String()) },
      { additionalProperties: true },
    ),
    user: Type.Object(
      { id: Type.String(), name: Type.String(), displayName: Type.String() },
      { additionalProperties: true },
    ),
    challenge: Type.String(),
    pubKeyCredParams: Type.Array(
      Type.Object({ alg: Type.Integer(), type: Type.String() }, { additionalProperties: true }),
    ),
    timeout: Type.Optional(Type.Integer()),
    excludeCredentials: Type.Optional(Type.Array(Descriptor)),
    authenticatorSelection: Type.Optional(
      Type.Object(
        {
          authenticatorAttachment: Type.Optional(Type.String()),
          requireResidentKey: Type.Optional(Type.Boolean()),
          residentKey: Type.Optional(Type.String()),
          userVerification: Type.Optional(Type.String()),
        },
        { additionalProperties: true },
      ),
    ),
    hints: Type.Optional(Type.Array(Type.String())),
    attestation: Type.Optional(Type.String()),
    extensions: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

/** Options for navigator.credentials.get() (PublicKeyCredentialRequestOptionsJSON). */
export const RequestOptions = Type.Object(
  {
    challenge: Type.String(),
    timeout: Type.Optional(Type.Integer()),
    rpId: Type.Optional(Type.String()),
    allowCredentials: Type.Optional(Type.Array(Descriptor)),
    userVerification: Type.Optional(Type.String()),
    hints: Type.Optional(Type.Array(Type.String())),
    extensions: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

/** 202 from POST /auth/login when 2FA is on: no session yet. */
export const SecondFactorRequired = Type.Object(
  {
    status: Type.Literal('second_factor_required'),
    challengeToken: Type.String({ maxLength: 128, description: 'For POST /auth/login/second-factor' }),
    expiresAt: Timestamp,
    methods: Type.Array(Method, { maxItems: 3 }),
  },
  { additionalProperties: false },
);

export const SecondFactorBody = Type.Object(
  {
    challengeToken: ChallengeToken,
    code: Type.Optional(TotpCode),
    recoveryCode: Type.Optional(RecoveryCode),
    passkey: Type.Optional(AuthenticationResponse),
  },
  {
    additionalProperties: false,
    description: 'The challenge and exactly one of code, recoveryCode, passkey',
  },
);

export const ChallengeBody = Type.Object({ challengeToken: ChallengeToken }, { additionalProperties: false });

export const TwoFactorStatus = Type.Object(
  {
    totpEnabled: Type.Boolean(),
    totpEnabledAt: Type.Union([Timestamp, Type.Null()]),
    recoveryCodesLeft: Type.Integer({ minimum: 0 }),
    passkeys: Type.Integer({ minimum: 0 }),
    lockedUntil: Type.Union([Timestamp, Type.Null()]),
  },
  { additionalProperties: false },
);

export const TotpSetup = Type.Object(
  {
    secret: Type.String({ maxLength: 64, description: 'Base32, for typing into the app' }),
    uri: Type.String({ maxLength: 512, description: 'otpauth:// URI, shown as a QR code' }),
  },
  { additionalProperties: false },
);

/** Turning a credential on needs the password again: a stolen session alone cannot add one. */
export const ReauthBody = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }) },
  { additionalProperties: false },
);

export const TotpConfirmBody = Type.Object({ code: TotpCode }, { additionalProperties: false });

export const RecoveryCodes = Type.Object(
  { recoveryCodes: Type.Array(Type.String({ maxLength: 32 }), { minItems: 10, maxItems: 10 }) },
  { additionalProperties: false },
);

export const DisableTwoFactorBody = Type.Object(
  {
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
    code: Type.Optional(TotpCode),
    recoveryCode: Type.Optional(RecoveryCode),
  },
  { additionalProperties: false, description: 'The password and exactly one of code, recoveryCode' },
);

export const RegenerateCodesBody = Type.Object(
  { code: Type.Optional(TotpCode), recoveryCode: Type.Optional(RecoveryCode) },
  { additionalProperties: false, description: 'Exactly one of code, recoveryCode' },
);

export const Passkey = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 64 }),
    createdAt: Timestamp,
    lastUsedAt: Type.Union([Timestamp, Type.Null()]),
    backedUp: Type.Boolean({ description: 'Synced by a passkey provider (survives a lost device)' }),
  },
  { additionalProperties: false },
);

export const PasskeyList = Type.Object(
  { items: Type.Array(Passkey, { maxItems: 100 }) },
  { additionalProperties: false },
);

export const PasskeyParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const PasskeyRegistrationOptions = Type.Object(
  { challengeId: Type.String({ maxLength: 128 }), options: CreationOptions },
  { additionalProperties: false },
);

export const PasskeyRegisterBody = Type.Object(
  { challengeId: ChallengeToken, name: PasskeyName, response: RegistrationResponse },
  { additionalProperties: false },
);

export const PasskeyRenameBody = Type.Object({ name: PasskeyName }, { additionalProperties: false });

export const PasskeyLoginOptions = Type.Object(
  { challengeId: Type.String({ maxLength: 128 }), options: RequestOptions },
  { additionalProperties: false },
);

export const PasskeyLoginBody = Type.Object(
  { challengeId: ChallengeToken, response: AuthenticationResponse },
  { additionalProperties: false },
);
