import type { BodyOf } from '../api/client.ts';

type RegistrationBody = BodyOf<'/api/v1/auth/passkeys', 'post'>['response'];
type AssertionBody = BodyOf<'/api/v1/auth/passkeys/login', 'post'>['response'];

/** Only the extension output the server reads (a browser may add others it was not asked for). */
function extensions(results: { credProps?: { rk?: boolean } }) {
  return results.credProps ? { credProps: { rk: results.credProps.rk } } : {};
}

/**
 * Asks the authenticator to create a passkey for these options (from the server) and returns the
 * answer as the API takes it. @simplewebauthn/browser is loaded only when a passkey is used.
 */
export async function createPasskey(options: unknown): Promise<RegistrationBody> {
  const { startRegistration } = await import('@simplewebauthn/browser');
  const answer = await startRegistration({ optionsJSON: options as never });
  return { ...answer, clientExtensionResults: extensions(answer.clientExtensionResults) } as RegistrationBody;
}

/** Asks the authenticator to sign the server's challenge with a passkey. */
export async function signWithPasskey(options: unknown): Promise<AssertionBody> {
  const { startAuthentication } = await import('@simplewebauthn/browser');
  const answer = await startAuthentication({ optionsJSON: options as never });
  return { ...answer, clientExtensionResults: extensions(answer.clientExtensionResults) } as AssertionBody;
}

/** Whether this browser can use passkeys at all. */
export function passkeysSupported(): boolean {
  return typeof globalThis.PublicKeyCredential === 'function';
}

/** A cancelled or timed-out browser prompt (not an API error). */
export function isPasskeyCancel(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NotAllowedError' || error.name === 'AbortError');
}
