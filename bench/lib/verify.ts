/** Pure checks of the drills' verifiers (unit-tested in verify.test.ts). */

/** A member's copy of the conversations: every seq its socket got a `message.new` for, in order. */
export type ChatCopy = Map<string, number[]>;

export interface ChatVerdict {
  /** Acknowledged clientMessageIds that are not stored. */
  lost: number;
  /** clientMessageIds stored twice, plus seqs a member's socket got more than once. */
  duplicated: number;
  /** Stored seqs missing from a member's copy, or holes in the stored seqs. */
  gaps: number;
  stored: number;
  problems: string[];
}

/**
 * `histories`: each conversation's stored messages (seq order, as the server answers them);
 * `acked`: the clientMessageIds the server acknowledged; `copies`: what each member's socket got.
 */
export function verifyChat(
  histories: Map<string, { seq: number; clientMessageId: string }[]>,
  acked: Set<string>,
  copies: { member: string; conversationId: string; seqs: number[] }[],
): ChatVerdict {
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 10) problems.push(p);
  };
  let lost = 0;
  let duplicated = 0;
  let gaps = 0;
  let stored = 0;
  const storedIds = new Map<string, number>();
  for (const [conversationId, items] of histories) {
    stored += items.length;
    items.forEach((m, index) => {
      if (m.seq !== index + 1) {
        gaps++;
        note(`${conversationId}: stored seq ${m.seq} at position ${index + 1}`);
      }
      storedIds.set(m.clientMessageId, (storedIds.get(m.clientMessageId) ?? 0) + 1);
    });
  }
  for (const [id, n] of storedIds)
    if (n > 1) {
      duplicated += n - 1;
      note(`${id} stored ${n} times`);
    }
  for (const id of acked)
    if (!storedIds.has(id)) {
      lost++;
      note(`${id} acknowledged but not stored`);
    }
  for (const { member, conversationId, seqs } of copies) {
    const seen = new Set<number>();
    for (const seq of seqs) {
      if (seen.has(seq)) {
        duplicated++;
        note(`${member} got seq ${seq} of ${conversationId} twice`);
      }
      seen.add(seq);
    }
    for (const m of histories.get(conversationId) ?? [])
      if (!seen.has(m.seq)) {
        gaps++;
        note(`${member} never got seq ${m.seq} of ${conversationId}`);
      }
  }
  return { lost, duplicated, gaps, stored, problems };
}

/** Least-squares slope of `ys` over `xs` (per unit of x), and the fit's R². */
export function slope(xs: number[], ys: number[]): { perUnit: number; r2: number } {
  const n = xs.length;
  if (n < 2) return { perUnit: 0, r2: 0 };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  if (sxx === 0) return { perUnit: 0, r2: 0 };
  return { perUnit: sxy / sxx, r2: syy === 0 ? 0 : (sxy * sxy) / (sxx * syy) };
}

/**
 * The capacity step search: given a probe that says whether a rate holds its SLO, the highest
 * passing rate — steps up by `factor` until a rate fails, then bisects between the last pass and
 * the first fail `refine` times. Returns every probe made, in order.
 */
export async function stepSearch(
  start: number,
  probe: (rate: number) => Promise<boolean>,
  opts: { factor?: number; max?: number; refine?: number } = {},
): Promise<{ best: number | undefined; probes: { rate: number; pass: boolean }[] }> {
  const factor = opts.factor ?? 1.5;
  const max = opts.max ?? 1_000;
  const probes: { rate: number; pass: boolean }[] = [];
  let best: number | undefined;
  let fail: number | undefined;
  for (let rate = start; rate <= max; rate = Math.round(rate * factor)) {
    const pass = await probe(rate);
    probes.push({ rate, pass });
    if (!pass) {
      fail = rate;
      break;
    }
    best = rate;
  }
  for (let i = 0; i < (opts.refine ?? 1) && fail !== undefined; i++) {
    const low = best ?? 0;
    const mid = Math.round((low + fail) / 2);
    if (mid <= low || mid >= fail) break;
    const pass = await probe(mid);
    probes.push({ rate: mid, pass });
    if (pass) best = mid;
    else fail = mid;
  }
  return { best, probes };
}
