import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

describe("transit:dev CLI", () => {
  it("prints the ready line, serves with the given token and faults, and exits cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "lib/devstack/transit/cli.ts", "--port", "0", "--token", "cli-token", "--error-rate", "0"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 20_000);
      child.stdout.on("data", () => {
        const m = /^Transit dev server listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect(out.match(/listening on/g)).toHaveLength(1);
    expect(out).not.toContain("Root token"); // given explicitly, so not printed
    const res = await fetch(`${url}/v1/auth/token/lookup-self`, { headers: { "X-Vault-Token": "cli-token" } });
    expect(res.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("refuses invalid flags", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "lib/devstack/transit/cli.ts", "--port", "0", "--sealed-rate", "abc"], { cwd: ROOT });
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(2);
  });
});
