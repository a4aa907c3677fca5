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
