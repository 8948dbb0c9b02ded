import { Type } from 'typebox';
import { AccountToken } from './password-reset.schema.ts';

export const VerifyEmailBody = Type.Object({ token: AccountToken }, { additionalProperties: false });
