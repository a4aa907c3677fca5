import "server-only";
import path from "node:path";
import { sql } from "drizzle-orm";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { rowsOf, type Db } from "./client";

// Arbitrary constant: the advisory lock that serialises migrators of several instances starting at once.
const MIGRATION_LOCK = 7_346_201_995;

export interface MigrateOptions {
  /** Defaults to `<cwd>/drizzle`. */
  migrationsFolder?: string;
}

/**
 * Applies the drizzle-kit migrations in `drizzle/` — the same files, the same bookkeeping table
 * (`drizzle.__drizzle_migrations`, compatible with `drizzle-kit migrate`) for PostgreSQL and PGlite.
 *
 * Unlike drizzle-orm's per-driver migrators this takes a transaction-scoped advisory lock first, so N app
 * instances starting together against one PostgreSQL apply each migration once instead of racing.
 * All pending migrations apply in one transaction: all or nothing.
 */
export async function migrate(db: Db, options: MigrateOptions = {}): Promise<{ applied: number }> {
  const migrationsFolder = options.migrationsFolder ?? path.resolve(process.cwd(), "drizzle");
  const migrations = readMigrationFiles({ migrationsFolder });
  let applied = 0;
  await db.transaction(async (tx) => {
    await tx.execute(sql.raw(`select pg_advisory_xact_lock(${MIGRATION_LOCK})`));
    await tx.execute(sql`create schema if not exists drizzle`);
    await tx.execute(
      sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`,
    );
    const [last] = rowsOf<{ created_at: string | number }>(
      await tx.execute(sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`),
    );
    const lastMillis = last ? Number(last.created_at) : -1;
    for (const migration of migrations) {
      if (migration.folderMillis <= lastMillis) continue;
      for (const statement of migration.sql) {
        if (statement.trim() !== "") await tx.execute(sql.raw(statement));
      }
      await tx.execute(
        sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
      );
      applied += 1;
    }
  });
  return { applied };
}
