/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** Statements inside a transaction (or a plain read). SQL uses `?` placeholders on both dialects. */
export interface SqlTx {
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a statement; resolves to the number of rows changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
}

/** What the shared store code needs from a database. */
export interface SqlDriver {
  readonly dialect: "sqlite" | "postgres";
  readonly location: string;
  /**
   * A write transaction. `locks` name exclusive sections held until it ends (PostgreSQL advisory
   * locks, taken in the order given; SQLite holds its one write lock from the start anyway).
   */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>, options?: { locks?: string[] }): Promise<T>;
  /** Takes one more exclusive section inside a running transaction. */
  lock(tx: SqlTx, name: string): Promise<void>;
  /** Reads outside a transaction. */
  read<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
