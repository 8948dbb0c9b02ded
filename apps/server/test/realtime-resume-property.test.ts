import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '@kith/contract';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { connect, type TestSocket } from './helpers/ws-client.ts';

// Exactly once, in order, whatever the interleaving (issue 15): members connect, others send, the
// members resume (at once or after live messages came in) from what they hold, drop and come back
// (having lost the last few messages, so from an older position), at random over a real server and
// real sockets; each socket gets the seqs after its resume position once, in order, and each member
// ends up with 1..n of each of its conversations. Replays read 10 messages at a time (the least),
// so they interleave with live ones. The wait for a resume is long: only the client ends it.
const t = await buildTestApp({
  ...GENEROUS_AUTH_LIMITS,
  CHAT_FRIENDS_ONLY: 'false',
  REALTIME_REPLAY_BATCH: '10',
  REALTIME_RESUME_WAIT_MS: '30000',
  REALTIME_MAX_MESSAGES_PER_10S: '10000',
});
const base = await t.app.listen({ host: '127.0.0.1', port: 0 });

const RUNS = Number(process.env.KITH_PROPERTY_RUNS ?? 12);
const SEED = Number(process.env.KITH_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));

const users = [await createUser(t), await createUser(t), await createUser(t)];
/** Conversation 0: all three; conversation 1: users 0 and 1. */
const MEMBERS = [
  [0, 1, 2],
  [0, 1],
];

type Action =
  | { kind: 'send'; from: number; conv: number; count: number }
  | { kind: 'connect'; who: number; resumeAtOpen: boolean }
  | { kind: 'resume'; who: number }
  | { kind: 'ping'; who: number }
  /** The socket goes; the client keeps all it received but the last `forget` of each conversation (not yet stored when it died). */
  | { kind: 'drop'; who: number; forget: number };

const who = fc.integer({ min: 0, max: 2 });
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    kind: fc.constant('send' as const),
    from: who,
    conv: fc.integer({ min: 0, max: 1 }),
    count: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ kind: fc.constant('connect' as const), who, resumeAtOpen: fc.boolean() }),
  fc.record({ kind: fc.constant('resume' as const), who }),
  fc.record({ kind: fc.constant('ping' as const), who }),
  fc.record({
    kind: fc.constant('drop' as const),
    who,
    forget: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  }),
);

/** One member's client: what it kept from earlier sockets, its open socket, whether its resume is still to send. */
interface Client {
  user: TestUser;
  convs: number[];
  /** Per conversation (by index): the seqs kept from earlier sockets, 1..m if all is well. */
  kept: number[][];
  open: TestSocket | undefined;
  resumePending: boolean;
}

/** Sends a ping and waits for its pong: the server has handled every frame before it (a resume's replay included). */
async function ping(socket: TestSocket) {
  const pongs = socket.events.filter((e) => e.type === 'pong').length;
  socket.send({ type: 'ping' });
  await socket.waitForCount('pong', pongs + 1);
}

/** The seqs of conversation `id` a socket received, in order. */
const seqsOn = (socket: TestSocket | undefined, id: string): number[] =>
  (socket?.events ?? [])
    .filter((e): e is { type: 'message.new'; message: ChatMessage } => e.type === 'message.new')
    .filter((e) => e.message.conversationId === id)
    .map((e) => e.message.seq);

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

let runs = 0;

async function run(actions: Action[]): Promise<void> {
  // each run its own conversations, opened by members in turn (conversation creation is rate limited per user)
  runs += 1;
  const [k, l] = [runs % 3, runs % 2];
  const ids = [
    (
      await openConversation(
        t,
        users[k]!,
        [users[(k + 1) % 3]!, users[(k + 2) % 3]!],
        `three ${randomUUID()}`,
      )
    ).id,
    (await openConversation(t, users[l]!, [users[1 - l]!], `two ${randomUUID()}`)).id,
  ];
  const heads = [0, 0];
  const clients: Client[] = users.map((user, i) => ({
    user,
    convs: MEMBERS.flatMap((members, conv) => (members.includes(i) ? [conv] : [])),
    kept: MEMBERS.map(() => []),
    open: undefined,
    resumePending: false,
  }));
  /** What the client holds in a conversation: what it kept, then what its open socket received. */
  const holds = (client: Client, conv: number) => [...client.kept[conv]!, ...seqsOn(client.open, ids[conv]!)];
  /** Where the client resumes from: the last seq it holds per conversation (older than the head when it missed some). */
  const positions = (client: Client) =>
    Object.fromEntries(client.convs.map((conv) => [ids[conv]!, holds(client, conv).at(-1) ?? 0]));
  const resume = (client: Client) => {
    client.open!.send({ type: 'resume', conversations: positions(client) });
    client.resumePending = false;
  };
  const connectClient = async (client: Client, resumeAtOpen: boolean) => {
    const socket = await connect(
      base,
      client.user.accessToken,
      resumeAtOpen ? { resume: positions(client) } : {},
    );
    client.open = socket;
    client.resumePending = !resumeAtOpen;
  };
  try {
    for (const step of actions) {
      const client = clients[step.kind === 'send' ? step.from : step.who]!;
      switch (step.kind) {
        case 'send': {
          const members = MEMBERS[step.conv]!;
          const sender = users[members[step.from % members.length]!]!;
          const sent = await Promise.all(
            Array.from({ length: step.count }, () => sendMessage(t, sender, ids[step.conv]!, 'hi')),
          );
          heads[step.conv] = Math.max(heads[step.conv]!, ...sent.map((m) => m.seq));
          break;
        }
        case 'connect':
          if (!client.open) await connectClient(client, step.resumeAtOpen);
          break;
        case 'resume':
          if (client.open && client.resumePending) resume(client);
          break;
        case 'ping':
          if (!client.open) break;
          if (client.resumePending) resume(client); // a client resumes before anything else
          await ping(client.open);
          break;
        case 'drop': {
          if (!client.open) break;
          await client.open.close();
          for (const conv of client.convs) {
            const all = holds(client, conv);
            expect(all, `user ${step.who}, conversation ${conv}, a dropped socket`).toEqual(upTo(all.length));
            client.kept[conv] = all.slice(0, Math.max(0, all.length - step.forget));
          }
          client.open = undefined;
          client.resumePending = false;
          break;
        }
      }
    }
    // everyone comes back (or resumes) and catches up
    for (const client of clients) {
      if (!client.open) await connectClient(client, true);
      else if (client.resumePending) resume(client);
    }
    for (const client of clients) {
      for (const conv of client.convs) {
        const id = ids[conv]!;
        const head = heads[conv]!;
        if (head > 0 && (holds(client, conv).at(-1) ?? 0) < head) {
          await client.open!.waitFor(
            'message.new',
            (e) => e.message.conversationId === id && e.message.seq === head,
          );
        }
      }
      // anything still to come (a duplicate) comes before the pong
      await ping(client.open!);
    }
    for (const client of clients) {
      for (const conv of client.convs) {
        expect(holds(client, conv), `user ${clients.indexOf(client)}, conversation ${conv}`).toEqual(
          upTo(heads[conv]!),
        );
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.open?.close()));
  }
}

describe('resume, property: every interleaving of connect, live sends, resume and reconnect', () => {
  it(`each member receives 1..n once, in order (${RUNS} runs, seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 4, maxLength: 24 }), async (actions) => {
        await run(actions);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 300_000);
});
