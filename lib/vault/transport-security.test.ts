/**
 * Where the Vault token may go: never to a host a redirect names, and only over TLS the configured CA
 * verifies (VAULT_SKIP_VERIFY in the environment changes nothing).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "@/lib/config/env";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createVaultClient } from "./client";
import { VaultProtocolError, VaultUnavailableError } from "./errors";

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const closeServer = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe("redirects", () => {
  const seenByOtherHost: http.IncomingHttpHeaders[] = [];
  let other: http.Server;
  let vault: http.Server;
  let vaultAddr = "";

  beforeAll(async () => {
    other = http.createServer((req, res) => {
      seenByOtherHost.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: { keys: ["k"] } }));
    });
    const otherHost = await listen(other);
    // "localhost" vs "127.0.0.1": another origin, as a redirect to another cluster node or an attacker's host would be.
    vault = http.createServer((req, res) => {
      res.writeHead(307, { location: `http://localhost:${otherHost.split(":")[1]}${req.url}` }).end();
    });
    vaultAddr = `http://${await listen(vault)}`;
  });
  afterAll(async () => {
    other.closeAllConnections();
    vault.closeAllConnections();
    await Promise.all([closeServer(other), closeServer(vault)]);
  });

  it("a 307 fails as a protocol error and the token is never sent to the host it names", async () => {
    const client = createVaultClient({ addr: vaultAddr, token: "s.secret-token-value", retries: 0, timeoutMs: 2_000 });
    try {
      const err = await client.readKey("k").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VaultProtocolError);
      expect((err as Error).message).toMatch(/redirect \(307\).*VAULT_ADDR/);
      expect(JSON.stringify(err)).not.toContain("secret-token-value");
      expect(seenByOtherHost).toHaveLength(0);
      // sys/health too (node-vault passes any health answer through as a body).
      const health = await client.health().catch((e: unknown) => e);
      expect(health).toBeInstanceOf(VaultProtocolError);
      expect((health as Error).message).toMatch(/redirect \(307\)/);
      expect(seenByOtherHost).toHaveLength(0);
    } finally {
      client.close();
    }
  });
});

describe("proxies from the environment", () => {
  it("are not used: with HTTP_PROXY set, requests go straight to VAULT_ADDR and the proxy sees nothing", async () => {
    const proxied: string[] = [];
    const proxy = http.createServer((req, res) => {
      proxied.push(`${req.method} ${req.url} token=${String(req.headers["x-vault-token"] ?? "")}`);
      res.writeHead(502).end();
    });
    const proxyAddr = `http://${await listen(proxy)}`;
    const transit = await startTransitServer({ port: 0, quiet: true });
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
    process.env.HTTP_PROXY = proxyAddr;
    process.env.http_proxy = proxyAddr;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    const client = createVaultClient({ addr: transit.url, token: transit.token, retries: 0, timeoutMs: 5_000 });
    try {
      await client.createKey("no-proxy-key");
      expect((await client.readKey("no-proxy-key")).name).toBe("no-proxy-key");
      expect(proxied).toEqual([]);
    } finally {
      client.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      proxy.closeAllConnections();
      await closeServer(proxy);
      await transit.close();
    }
  });
});

describe("TLS", () => {
  let dir: string;
  let caPem: string;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let front: tls.Server;
  let addr = "";
  let handshakes = 0;
  let connections = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ks-vault-tls-"));
    // A self-signed certificate for 127.0.0.1, standing in for a private CA's Vault certificate.
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    caPem = readFileSync(join(dir, "cert.pem"), "utf8");
    transit = await startTransitServer({ port: 0, quiet: true });
    const backend = new URL(transit.url);
    // TLS in front of the dev Transit server: decrypted bytes are piped to it, so it only sees what passed the handshake.
    front = tls.createServer({ key: readFileSync(join(dir, "key.pem")), cert: caPem }, (socket) => {
      handshakes++;
      const upstream = net.connect(Number(backend.port), backend.hostname);
      socket.pipe(upstream).pipe(socket);
      const end = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on("error", end);
      upstream.on("error", end);
    });
    front.on("connection", () => connections++);
    front.on("tlsClientError", () => undefined);
    addr = `https://${await listen(front)}`;
  });
  afterAll(async () => {
    await closeServer(front);
    await transit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("with the CA from VAULT_CACERT the client talks to Vault over TLS", async () => {
    const client = createVaultClient({ addr, token: transit.token, caCert: caPem, retries: 0, timeoutMs: 5_000 });
    try {
      await client.createKey("tls-key");
      const [r] = await client.encrypt("tls-key", [{ plaintext: Buffer.from("hello") }]);
      expect(r && "ciphertext" in r ? r.ciphertext : "").toMatch(/^vault:v1:/);
      expect(handshakes).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });

  it("without it the certificate is refused (reason tls, not retried) even with VAULT_SKIP_VERIFY set", async () => {
    const before = process.env.VAULT_SKIP_VERIFY;
    process.env.VAULT_SKIP_VERIFY = "1";
    const client = createVaultClient({ addr, token: transit.token, retries: 2, retryBaseDelayMs: 1, timeoutMs: 5_000 });
    try {
      const [h, c] = [handshakes, connections];
      const err = await client.listKeys().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VaultUnavailableError);
      expect((err as VaultUnavailableError).reason).toBe("tls");
      expect((err as VaultUnavailableError).outcomeUnknown).toBe(false);
      expect((err as Error).message).toMatch(/VAULT_CACERT/);
      // No handshake completed, so no request byte (or token) was sent. The client's start-up token lookup and
      // the call each tried once: with retries: 2, retrying would have meant up to six connections.
      expect(handshakes - h).toBe(0);
      expect(connections - c).toBeGreaterThan(0);
      expect(connections - c).toBeLessThanOrEqual(2);
    } finally {
      client.close();
      if (before === undefined) delete process.env.VAULT_SKIP_VERIFY;
      else process.env.VAULT_SKIP_VERIFY = before;
    }
  });

  it("VAULT_CACERT is checked at start: unreadable, not PEM, or set for a plain-http address", () => {
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadConfig({ NODE_ENV: "test", ...env });
        return [];
      } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
      }
    };
    const notPem = join(dir, "not.pem");
    writeFileSync(notPem, "hello");
    const https = { VAULT_ADDR: "HTTPS://vault:8200" };
    expect(problemsOf({ ...https, VAULT_CACERT: join(dir, "missing.pem") })).toEqual([expect.stringMatching(/^VAULT_CACERT: cannot read .*ENOENT/)]);
    expect(problemsOf({ ...https, VAULT_CACERT: notPem })).toEqual([expect.stringMatching(/no PEM certificate/)]);
    expect(problemsOf({ VAULT_CACERT: join(dir, "cert.pem"), VAULT_ADDR: "http://vault:8200" })).toEqual([expect.stringMatching(/not https/)]);
    // Unset VAULT_ADDR means the dev server's plain-http default.
    expect(problemsOf({ VAULT_CACERT: join(dir, "cert.pem") })).toEqual([expect.stringMatching(/not https/)]);
    expect(problemsOf({ ...https, VAULT_CACERT: join(dir, "cert.pem") })).toEqual([]);
    expect(loadConfig({ NODE_ENV: "test", VAULT_CACERT: join(dir, "cert.pem"), VAULT_ADDR: "https://vault:8200" }).vault.caCert).toBe(caPem);
  });
});
