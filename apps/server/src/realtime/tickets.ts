import { createHash, randomBytes } from 'node:crypto';
import type { TicketsRepository } from './tickets.repository.ts';

const TICKET = /^[A-Za-z0-9_-]{43}$/;
const hash = (ticket: string) => createHash('sha256').update(ticket).digest();

/**
 * Tickets that authenticate a WebSocket upgrade (browsers cannot send an Authorization header on
 * one). Stored in Postgres, so a ticket issued by any instance opens a socket on any other.
 */
export class Tickets {
  private issued = 0;

  constructor(
    private readonly repo: TicketsRepository,
    private readonly ttlSeconds: number,
  ) {}

  /** A fresh 256-bit ticket for this session. */
  async issue(userId: string, sessionId: string): Promise<{ ticket: string; expiresIn: number }> {
    const ticket = randomBytes(32).toString('base64url');
    await this.repo.insert(hash(ticket), userId, sessionId, this.ttlSeconds);
    // old rows are purged in small batches as tickets are issued: no job needed
    if (++this.issued % 100 === 0) await this.repo.purgeExpired(3600, 1000);
    return { ticket, expiresIn: this.ttlSeconds };
  }

  /** The ticket's user and session, once: undefined when malformed, unknown, expired or used. */
  async consume(ticket: string | undefined): Promise<{ userId: string; sessionId: string } | undefined> {
    if (!ticket || !TICKET.test(ticket)) return undefined;
    return this.repo.consume(hash(ticket));
  }
}
