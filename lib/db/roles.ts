import "server-only";
import { sql } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "./client";

/**
 * Production runs with two database roles (DESIGN §3, §6):
 * - the owner (DATABASE_MIGRATION_URL): `npm run db:migrate` connects as it, it owns every table, function and
 *   trigger, and it grants the runtime role what the console needs;
 * - the runtime role (DATABASE_URL): the console and the workers. It reads and writes the console's tables
 *   but on the audit tables may only SELECT and INSERT: it can neither change nor remove an event, nor
 *   disable a trigger (only the owner may ALTER a table), nor move the chain head outside an append (the
 *   head advances inside the owner's SECURITY DEFINER trigger; the runtime role takes the head's lock through
 *   `keyshare_audit_lock_head()`).
 *
 * Grants are recomputed from scratch after every migration (REVOKE ALL, then GRANT), so a table a migration
 * adds gets the runtime privileges and nothing stale survives.
 */

/** Append-only for the runtime role: SELECT and INSERT only. */
export const AUDIT_TABLES = ["audit_events", "audit_checkpoints"] as const;
/** Read-only for the runtime role: it moves only inside the owner's insert trigger. */
export const READ_ONLY_TABLES = ["audit_chain_head"] as const;

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** Double-quoted identifier; refuses names that would need escaping (role names come from configuration). */
function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`unsupported role or table name: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** The user name of a postgres:// URL (postgres.js defaults to the OS user when it is missing). */
export function roleOfUrl(url: string): string | undefined {
  const user = decodeURIComponent(new URL(url).username);
  return user === "" ? undefined : user;
}

export interface GrantResult {
  role: string;
  tables: number;
}

/**
 * Grants the runtime role its privileges on schema public, as the connected owner. Idempotent; run after
 * migrating. Refuses when the runtime role is the connected role itself or a superuser (grants would not
 * restrict either).
 */
export async function grantRuntimePrivileges(db: DbOrTx, runtimeRole: string): Promise<GrantResult> {
  const role = ident(runtimeRole);
  return db.transaction(async (tx) => {
    const [me] = rowsOf<{ current_user: string }>(await tx.execute(sql`select current_user`));
    if (me?.current_user === runtimeRole) {
      throw new Error("the runtime role (DATABASE_URL) must differ from the owner role (DATABASE_MIGRATION_URL)");
    }
    const [info] = rowsOf<{ rolsuper: boolean }>(
      await tx.execute(sql`select rolsuper from pg_catalog.pg_roles where rolname = ${runtimeRole}`),
    );
    if (!info) throw new Error(`runtime role ${runtimeRole} does not exist: create it first (CREATE ROLE … LOGIN)`);
    if (info.rolsuper) throw new Error(`runtime role ${runtimeRole} is a superuser: it would bypass every grant and trigger`);

    const tables = rowsOf<{ name: string }>(
      await tx.execute(sql`
        select c.relname as name from pg_catalog.pg_class as c
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`),
    ).map((r) => r.name);

    await tx.execute(sql.raw(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`));
    await tx.execute(sql.raw(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${role}`));
    await tx.execute(sql.raw(`REVOKE CREATE ON SCHEMA public FROM ${role}`));
    await tx.execute(sql.raw(`GRANT USAGE ON SCHEMA public TO ${role}`));
    // The runtime role creates nothing: on PostgreSQL < 15 every role may create in public unless revoked.
    await tx.execute(sql.raw(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`));

    const special = new Set<string>([...AUDIT_TABLES, ...READ_ONLY_TABLES]);
    for (const table of tables) {
      const t = `public.${ident(table)}`;
      if ((AUDIT_TABLES as readonly string[]).includes(table)) {
        await tx.execute(sql.raw(`GRANT SELECT, INSERT ON ${t} TO ${role}`));
      } else if ((READ_ONLY_TABLES as readonly string[]).includes(table)) {
        await tx.execute(sql.raw(`GRANT SELECT ON ${t} TO ${role}`));
      } else {
        // The console's own tables, and the census/inventory tables the share triggers maintain (triggers run as
        // the role whose statement fired them). No TRUNCATE, REFERENCES or TRIGGER.
        await tx.execute(sql.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${t} TO ${role}`));
      }
    }
    // Sequences behind serial columns of the console's tables; the audit tables' identity columns need none.
    const sequences = rowsOf<{ name: string; owner_table: string | null }>(
      await tx.execute(sql`
        select s.relname as name, t.relname as owner_table
        from pg_catalog.pg_class as s
        join pg_catalog.pg_namespace as n on n.oid = s.relnamespace
        left join pg_catalog.pg_depend as d on d.objid = s.oid and d.classid = 'pg_catalog.pg_class'::regclass and d.deptype in ('a', 'i')
        left join pg_catalog.pg_class as t on t.oid = d.refobjid
        where n.nspname = 'public' and s.relkind = 'S'`),
    );
    for (const s of sequences) {
      if (s.owner_table && special.has(s.owner_table)) continue;
      await tx.execute(sql.raw(`GRANT USAGE, SELECT ON SEQUENCE public.${ident(s.name)} TO ${role}`));
    }
    // Taking the chain head's lock is how an append starts (SECURITY DEFINER, owner-only otherwise).
    await tx.execute(sql.raw(`GRANT EXECUTE ON FUNCTION public.keyshare_audit_lock_head() TO ${role}`));
    return { role: runtimeRole, tables: tables.length };
  });
}
