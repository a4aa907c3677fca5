import "server-only";
import { mkdirSync } from "node:fs";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { getConfig } from "@/lib/config/env";
import * as schema from "./schema";

export type Schema = typeof schema;
/** One database type for both drivers (postgres.js and PGlite). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that can run queries: the database or an open transaction. */
export type DbOrTx = Db | Tx;

export type DbConfig =
  | { kind: "postgres"; url: string; max?: number; /** Shown in pg_stat_activity; default keyshare-console. */ applicationName?: string }
  /** dataDir undefined: in memory (tests). */
  | { kind: "pglite"; dataDir?: string };

export interface DbHandle {
  db: Db;
  kind: DbConfig["kind"];
  close(): Promise<void>;
}

export async function createDb(cfg: DbConfig): Promise<DbHandle> {
  if (cfg.kind === "postgres") {
    // Timestamps without time zone (the share table's) are UTC: make now() and casts agree in our sessions.
    const client = postgres(cfg.url, {
      max: cfg.max ?? 10,
      onnotice: () => {},
      connection: { TimeZone: "UTC", application_name: cfg.applicationName ?? "keyshare-console" },
    });
    const db = drizzlePostgres(client, { schema }) as unknown as Db;
    return { db, kind: "postgres", close: () => client.end({ timeout: 5 }) };
  }
  // Loaded on demand: a production deployment (PostgreSQL) never loads the WebAssembly database.
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([import("@electric-sql/pglite"), import("drizzle-orm/pglite")]);
  if (cfg.dataDir) mkdirSync(cfg.dataDir, { recursive: true });
  const client = cfg.dataDir ? await PGlite.create(cfg.dataDir) : await PGlite.create();
  await client.exec("SET TimeZone = 'UTC'");
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  let closed = false;
  return {
    db,
    kind: "pglite",
    close: async () => {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

/**
 * `db.execute()` resolves to an array (postgres.js) or to `{ rows }` (PGlite); this reads either.
 * Prefer the query builder; raw SQL is for what it cannot say (locks, functions, unnest).
 */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown } | null)?.rows;
  if (Array.isArray(rows)) return rows as T[];
  throw new Error("unexpected result shape from db.execute");
}

// Memoised on globalThis so that Next.js dev-mode module reloads reuse the handle: PGlite is single-process
// and must be opened once per data folder.
const HANDLE = Symbol.for("keyshare-console.db");
type Memo = { key: string; handle: Promise<DbHandle> };
const memoHolder = globalThis as unknown as { [HANDLE]?: Memo };

function configKey(cfg: DbConfig): string {
  return cfg.kind === "postgres" ? `postgres:${cfg.url}` : `pglite:${cfg.dataDir ?? ":memory:"}`;
}

/** The process-wide database from configuration. */
export async function getDbHandle(): Promise<DbHandle> {
  const cfg = getConfig().database;
  const key = configKey(cfg);
  const memo = memoHolder[HANDLE];
  if (memo) {
    if (memo.key !== key) throw new Error("database configuration changed within one process");
    return memo.handle;
  }
  const handle = createDb(cfg);
  memoHolder[HANDLE] = { key, handle };
  handle.catch(() => {
    if (memoHolder[HANDLE]?.handle === handle) delete memoHolder[HANDLE];
  });
  return handle;
}

export async function getDb(): Promise<Db> {
  return (await getDbHandle()).db;
}

/** Closes the process-wide database (shutdown hooks). */
export async function closeDb(): Promise<void> {
  const memo = memoHolder[HANDLE];
  if (!memo) return;
  delete memoHolder[HANDLE];
  await (await memo.handle).close();
}

/**
 * Drizzle wraps driver errors in a DrizzleQueryError whose message lists the query parameters — for the
 * share table that would be ciphertext. Anything that logs or rethrows a database error outward should pass
 * it through here: the result keeps only the database's own message and SQLSTATE.
 */
export class DatabaseError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "DatabaseError";
  }
}

export function sanitizeDbError(err: unknown): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const cause = (err as { cause?: unknown } | null)?.cause ?? err;
  const message = cause instanceof Error ? cause.message : "database error";
  const code = (cause as { code?: unknown } | null)?.code;
  return new DatabaseError(message, typeof code === "string" ? code : undefined);
}
