/**
 * A seeded pseudo-random generator (sfc32, seeded through splitmix32): the same seed gives the
 * same data on every machine, which `Math.random` cannot.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A count around `mean`, geometric-like (most small, a few large): how activity is spread. */
  skewed(mean: number): number {
    if (mean <= 0) return 0;
    return Math.floor(-Math.log(1 - this.next()) * mean);
  }

  /** A UUIDv7 (RFC 9562) for the millisecond `ms`, random bits from this generator. */
  uuidv7(ms: number): string {
    const hex = Math.floor(ms).toString(16).padStart(12, '0');
    const r1 = this.uint32();
    const r2 = this.uint32();
    const r3 = this.uint32();
    const h = (n: number, len: number) => n.toString(16).padStart(len, '0').slice(-len);
    return (
      `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${h(r1 >>> 20, 3)}-` +
      `${h(0x8 | ((r1 >>> 18) & 0x3), 1)}${h((r1 >>> 6) & 0xfff, 3)}-${h(r2, 8)}${h(r3 >>> 16, 4)}`
    );
  }
}
