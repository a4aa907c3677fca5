import "server-only";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import pino, { type Logger } from "pino";
import { REDACT_PATHS } from "@/lib/log";

/** Test-only helpers (imported by *.test.ts files only). */

export interface StubRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export type StubReply = { status: number; json?: unknown } | "reset" | "hang";

/** A scriptable HTTP server standing in for Vault where the dev server cannot produce a situation. */
export async function startStub(handler: (req: StubRequest) => StubReply | Promise<StubReply>) {
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const record: StubRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body };
      requests.push(record);
      void Promise.resolve(handler(record)).then((reply) => {
        if (reply === "reset") {
          req.socket.destroy();
          return;
        }
        if (reply === "hang") return;
        if (reply.json === undefined) {
          res.writeHead(reply.status).end();
          return;
        }
        res.writeHead(reply.status, { "content-type": "application/json" }).end(JSON.stringify(reply.json));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A logger configured like lib/log (same redaction) that writes into a string, to assert on log contents. */
export function captureLogger(): { logger: Logger; text: () => string } {
  let out = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString("utf8");
      cb();
    },
  });
  const logger = pino({ level: "trace", redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, sink);
  return { logger, text: () => out };
}

/**
 * A forwarding proxy in front of a real server that counts requests per path prefix, so tests can tell
 * how many attempts the client made. `onRequest` runs before forwarding (e.g. to change faults).
 */
export async function startCountingProxy(target: string, onRequest?: (method: string, path: string, n: number) => void) {
  const hits: { method: string; path: string }[] = [];
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    hits.push({ method: req.method ?? "", path });
    onRequest?.(req.method ?? "", path, hits.length);
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    // An upstream reset becomes a reset towards the client, as it would without the proxy.
    out.on("error", () => req.socket.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    count: (prefix: string) => hits.filter((h) => h.path.startsWith(prefix)).length,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
