import { Writable } from "node:stream";
import axios from "axios";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb, sanitizeDbError } from "@/lib/db";
import { createTestPostgres } from "@/lib/db/testing";
import { createLogger } from "./index";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: "info", destination }) };
}

describe("logger redaction", () => {
  it("censors share, ciphertext, token and cookie fields at any of the first levels", () => {
    const { lines, logger } = capture();
    const secret = "vault:v3:c2VjcmV0LXNoYXJlLW1hdGVyaWFs";
    logger.info(
      {
        ciphertext: secret,
        record: { encrypted_key_shares: secret, id: "r1" },
        req: { headers: { cookie: "session=abc", "x-vault-token": "hvs.abc" } },
        vault: { response: { data: { plaintext: "cGxhaW4=" } } },
        token: "hvs.root",
      },
      "event",
    );
    const out = lines.join("");
    expect(out).not.toContain(secret);
    expect(out).not.toContain("session=abc");
    expect(out).not.toContain("hvs.abc");
    expect(out).not.toContain("hvs.root");
    expect(out).not.toContain("cGxhaW4=");
    expect(out).toContain('"id":"r1"');
    expect(out).toContain("[redacted]");
  });
});

describe("errors are logged structurally, never with their query parameters or request config", () => {
  const CIPHERTEXT = `vault:v1:CIPHERTEXT-MARKER-${Math.random().toString(36).slice(2)}`;
  const VALUE = `VALUE-MARKER-${Math.random().toString(36).slice(2)}`;
  const VAULT_TOKEN = `hvs.VAULT-TOKEN-MARKER-${Math.random().toString(36).slice(2)}`;
  const hex = (s: string) => Buffer.from(s).toString("hex");

  /** Logs `err` in every shape a call site might use and returns the output. */
  function logEveryWay(err: unknown): string {
    const { lines, logger } = capture();
    logger.error(err as Error);
    logger.error(err as Error, "with a message");
    logger.error({ err });
    logger.error({ err }, "under err");
    logger.warn({ error: err }, "under error");
    logger.info({ op: "x", failure: err, nested: { deeper: { cause: err } }, list: [err] }, "elsewhere");
    logger.error({ err: err instanceof Error ? err.message : String(err) }, "hand-rolled message");
    logger.error(`interpolated: ${err instanceof Error ? err.message : String(err)}`);
    logger.error({ err: { name: "Error", message: err instanceof Error ? err.message : "", query: "q", params: [VALUE] } }, "hand-built");
    return lines.join("");
  }

  async function caught(p: Promise<unknown>): Promise<Error> {
    try {
      await p;
    } catch (err) {
      return err as Error;
    }
    throw new Error("expected a failure");
  }

  async function dbErrors(db: import("@/lib/db").Db, close: () => Promise<void>) {
    await db.execute(sql`create table log_probe (id int primary key, wallet_id text not null, blob bytea not null check (length(blob) > 4))`);
    const notNull = await caught(db.execute(sql`insert into log_probe values (1, ${null}, ${Buffer.from(CIPHERTEXT)})`));
    const check = await caught(db.execute(sql`insert into log_probe values (2, ${VALUE}, ${Buffer.from("abc")})`));
    const dataException = await caught(db.execute(sql`select ${VALUE}::int`));
    await close();
    const closed = await caught(db.execute(sql`select ${VALUE} as v, ${CIPHERTEXT} as c`));
    return { notNull, check, dataException, closed };
  }

  function expectClean(out: string) {
    for (const marker of [CIPHERTEXT, VALUE, VAULT_TOKEN, hex(CIPHERTEXT), "Failed query", "Failing row"]) expect(out).not.toContain(marker);
  }

  const backends: [string, () => Promise<{ db: import("@/lib/db").Db; close: () => Promise<void> }>][] = [
    ["pglite", async () => createDb({ kind: "pglite" })],
  ];
  const pgUrl = process.env.DATABASE_URL;
  if (pgUrl) {
    backends.push([
      "postgres",
      async () => {
        const t = await createTestPostgres(pgUrl, { migrate: false });
        return { db: t.db, close: t.close };
      },
    ]);
  }

  it.each(backends)("real %s errors: constraint violations, a data exception, a closed connection", async (_name, open) => {
    const { db, close } = await open();
    const errors = await dbErrors(db, close);
    // The raw errors do carry the markers: what is tested is that the logger drops them.
    expect(errors.notNull.message).toContain(CIPHERTEXT);
    expect(errors.dataException.message).toContain(VALUE);
    for (const [kind, err] of Object.entries(errors)) {
      const out = logEveryWay(err);
      expectClean(out);
      expect(out, kind).toContain('"type":"DrizzleQueryError"');
    }
    expect(logEveryWay(errors.notNull)).toContain('"code":"23502"');
    expect(logEveryWay(errors.check)).toMatch(/"code":"23514".*"constraint":"log_probe_blob_check"/);
    expect(logEveryWay(errors.dataException)).toContain("invalid input syntax for type integer");
    // sanitizeDbError keeps the driver's message; for data exceptions that quotes the value, so it is masked too.
    expectClean(logEveryWay(sanitizeDbError(errors.dataException)));
    expectClean(logEveryWay(errors.dataException.cause));
  });

  it("an axios error keeps neither the X-Vault-Token header nor the request body", async () => {
    const err = await caught(
      axios.post("http://127.0.0.1:9/v1/transit/encrypt/k", { plaintext: CIPHERTEXT }, { headers: { "X-Vault-Token": VAULT_TOKEN }, proxy: false }),
    );
    expect(JSON.stringify((err as { config?: unknown }).config)).toContain(VAULT_TOKEN);
    const out = logEveryWay(err);
    expectClean(out);
    expect(out).toContain("ECONNREFUSED");
  });

  it("a wrapping error keeps a scrubbed cause chain", () => {
    const inner = Object.assign(new Error(`Failed query: insert into t values ($1)\nparams: ${CIPHERTEXT}`), { params: [CIPHERTEXT] });
    const outer = new Error(`import failed: ${inner.message}`, { cause: inner });
    const out = logEveryWay(outer);
    expectClean(out);
    expect(out).toContain("import failed: [query and parameters withheld]");
  });
});
