import { Type } from 'typebox';
import { Uuid } from '../../platform/http/schemas.ts';
import { Role } from '../users/users.schema.ts';

export const UserParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const SetRoleBody = Type.Object({ role: Role }, { additionalProperties: false });
