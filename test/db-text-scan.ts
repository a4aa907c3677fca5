import { sql } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "@/lib/db/client";

/**
 * Tables (schema-qualified) whose rows contain `needle` anywhere in their text form (`row::text`: every column,
 * jsonb and arrays included). For leak tests: a marker planted in input must show up in none of them.
 */
export async function tablesContaining(db: DbOrTx, needle: string): Promise<string[]> {
  const tables = rowsOf<{ t: string }>(
    await db.execute(sql`
      select quote_ident(schemaname) || '.' || quote_ident(tablename) as t
      from pg_catalog.pg_tables where schemaname in ('public', 'drizzle') order by 1`),
  );
  const hits: string[] = [];
  for (const { t } of tables) {
    const [r] = rowsOf<{ n: number | string }>(
      await db.execute(sql`select count(*) as n from ${sql.raw(t)} as x where strpos(x::text, ${needle}) > 0`),
    );
    if (Number(r?.n ?? 0) > 0) hits.push(t);
  }
  return hits;
}
