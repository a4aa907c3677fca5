import "server-only";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { loadConfig } from "@/lib/config/env";
import { createDb, type Db } from "./client";
import { migrate } from "./migrate";

/**
 * Integration-test databases. Tests run against PGlite always and against PostgreSQL too when DATABASE_URL
 * is set; each test file gets its own fresh, migrated database:
 *
 *   describe.each(testBackends())("thing on $name", (backend) => {
 *     let t: TestDb;
 *     beforeAll(async () => { t = await backend.create(); });
 *     afterAll(() => t.close());
 *   });
 *
 * For PostgreSQL, DATABASE_URL is used as an admin connection to CREATE DATABASE ks_test_<random> and to
 * DROP it (WITH (FORCE)) at close. Never point it at a database you care about: nothing else is touched, but
 * the role needs CREATEDB.
 */
export interface TestDb {
  kind: "pglite" | "postgres";
  db: Db;
  /** A connection URL for the throwaway database (PostgreSQL only), e.g. for a second client. */
  url?: string;
  close(): Promise<void>;
}

export interface TestBackend {
  name: "pglite" | "postgres";
  /** `migrate: false` for tests of the migrations themselves. */
  create(options?: { migrate?: boolean }): Promise<TestDb>;
}

export async function createTestPglite(options: { migrate?: boolean } = {}): Promise<TestDb> {
  const handle = await createDb({ kind: "pglite" });
  if (options.migrate !== false) await migrate(handle.db);
  return { kind: "pglite", db: handle.db, close: handle.close };
}

export async function createTestPostgres(adminUrl: string, options: { max?: number; migrate?: boolean } = {}): Promise<TestDb> {
  const name = `ks_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = await createDb({ kind: "postgres", url: url.toString(), max: options.max ?? 10 });
  try {
    if (options.migrate !== false) await migrate(handle.db);
  } catch (err) {
    await handle.close();
    await dropDatabase(adminUrl, name);
    throw err;
  }
  return {
    kind: "postgres",
    db: handle.db,
    url: url.toString(),
    close: async () => {
      await handle.close();
      await dropDatabase(adminUrl, name);
    },
  };
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** PostgreSQL admin URL for tests, from the validated env (DATABASE_URL), or undefined. */
export function testPostgresUrl(): string | undefined {
  const cfg = loadConfig({ ...process.env, NODE_ENV: "test" }).database;
  return cfg.kind === "postgres" ? cfg.url : undefined;
}

export function testBackends(): TestBackend[] {
  const backends: TestBackend[] = [{ name: "pglite", create: (o) => createTestPglite(o) }];
  const url = testPostgresUrl();
  if (url) backends.push({ name: "postgres", create: (o) => createTestPostgres(url, o) });
  return backends;
}
