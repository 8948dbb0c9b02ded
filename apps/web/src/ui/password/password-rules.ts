/** The server's rules (auth.schema.ts): 10–256 characters, not one of the most common passwords. */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;
export const USERNAME_PATTERN = /^[A-Za-z0-9_]{3,30}$/;

export interface PasswordCheck {
  longEnough: boolean;
  notTooLong: boolean;
  notUsername: boolean;
}

export function checkPassword(password: string, username: string): PasswordCheck {
  const length = [...password].length;
  return {
    longEnough: length >= PASSWORD_MIN,
    notTooLong: length <= PASSWORD_MAX,
    notUsername: username === '' || password.toLowerCase() !== username.toLowerCase(),
  };
}
