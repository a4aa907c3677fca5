import "server-only";

export { createDb, getDb, getDbHandle, closeDb, rowsOf, sanitizeDbError, DatabaseError } from "./client";
export type { Db, Tx, DbOrTx, DbConfig, DbHandle, Schema } from "./client";
export { migrate } from "./migrate";
export type { MigrateOptions } from "./migrate";
export * as schema from "./schema";
