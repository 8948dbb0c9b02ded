import type { UserRole } from '../db/schema.ts';

/** Who is calling, set by the authentication hook on routes that require it. */
export interface AuthContext {
  userId: string;
  sessionId: string;
  role: UserRole;
  /** The account's e-mail address is verified; until it is, writes have tighter limits (docs/mail.md). */
  emailVerified: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}
