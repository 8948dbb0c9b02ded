import type pg from 'pg';

export interface BulkColumn {
  name: string;
  /** The Postgres type of the parameter array's elements (`uuid`, `text`, `timestamptz`…). */
  type: string;
  /** A cast applied to each element after unnest, for types pg cannot send as arrays (`jsonb`, `uuid[]`). */
  cast?: string;
}

/** Batches one inserter may have queued or running before push() waits. */
const MAX_IN_FLIGHT = 2;

/**
 * The last statement queued on each client: batches of every inserter sharing a client run one after
 * another, in the order they were sent (a pg client must not be given a query while one runs).
 */
const tails = new WeakMap<pg.ClientBase, Promise<unknown>>();

function enqueue(client: pg.ClientBase, text: string, values: unknown[]): Promise<unknown> {
  const run = (tails.get(client) ?? Promise.resolve()).then(() => client.query(text, values));
  tails.set(
    client,
    run.catch(() => {}),
  );
  return run;
}

export class BulkInsert {
  private readonly columns: unknown[][];
  private readonly sql: string;
  private readonly inFlight: Promise<unknown>[] = [];
  private failure: unknown;
  rows = 0;

  constructor(
    private readonly client: pg.ClientBase,
    table: string,
    spec: readonly BulkColumn[],
    private readonly options: {
      batchSize?: number;
      /** Rows of this table reference rows of `after`: its pending rows are sent first. */
      after?: BulkInsert;
    } = {},
  ) {
    this.columns = spec.map(() => []);
    const names = spec.map((c) => c.name).join(', ');
    const params = spec.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
    const select = spec.map((c) => (c.cast ? `x.${c.name}::${c.cast}` : `x.${c.name}`)).join(', ');
    this.sql = `INSERT INTO ${table} (${names}) SELECT ${select} FROM unnest(${params}) AS x(${names})`;
  }

  async push(...values: unknown[]): Promise<void> {
    for (let i = 0; i < values.length; i++) this.columns[i]!.push(values[i]);
    this.rows += 1;
    if (this.columns[0]!.length >= (this.options.batchSize ?? 5_000)) await this.send();
  }

  /** Sends what is left and waits for every batch. */
  async done(): Promise<number> {
    if (this.columns[0]!.length > 0) await this.send();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    return this.rows;
  }

  /** Sends the rows pushed so far (a partial batch) without waiting for them. */
  async flush(): Promise<void> {
    if (this.columns[0]!.length > 0) await this.send();
  }

  private async send(): Promise<void> {
    if (this.failure) throw this.failure;
    await this.options.after?.flush();
    const arrays = this.columns.map((c) => c.splice(0, c.length));
    const query = enqueue(this.client, this.sql, arrays).catch((err: unknown) => {
      this.failure ??= err;
    });
    this.inFlight.push(query);
    if (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight.shift();
  }
}
