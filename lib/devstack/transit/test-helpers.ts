/** Helpers for this folder's tests: a raw-socket HTTP client (so tests see exactly what the server sends). */
import net from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads complete HTTP responses (Content-Length framed) from a socket, in order. */
export class ResponseReader {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async next(opts: { head?: boolean } = {}): Promise<RawResponse> {
    for (;;) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end >= 0) {
        const lines = this.buf.toString("latin1", 0, end).split("\r\n");
        const status = Number((lines[0] ?? "").split(" ")[1]);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(":");
          headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
        }
        const len = opts.head || status === 204 || status === 100 ? 0 : Number(headers["content-length"] ?? 0);
        if (this.buf.length >= end + 4 + len) {
          const body = this.buf.toString("utf8", end + 4, end + 4 + len);
          this.buf = this.buf.subarray(end + 4 + len);
          return { status, headers, body };
        }
      }
      if (this.closed) throw new Error("connection closed before a full response");
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

export async function connect(url: string): Promise<{ socket: net.Socket; reader: ResponseReader }> {
  const u = new URL(url);
  const socket = net.connect(Number(u.port), u.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, reader: new ResponseReader(socket) };
}

export function rawRequest(method: string, path: string, opts: { token?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Buffer {
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  if (opts.token) head += `X-Vault-Token: ${opts.token}\r\n`;
  for (const [k, v] of Object.entries(opts.headers ?? {})) head += `${k}: ${v}\r\n`;
  if (body) head += `Content-Length: ${body.length}\r\n`;
  head += "\r\n";
  return body ? Buffer.concat([Buffer.from(head), body]) : Buffer.from(head);
}

/** fetch wrapper returning status and parsed JSON (or null for an empty body). */
export async function call(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers["X-Vault-Token"] = token;
  let payload: string | undefined;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(`${url}/v1/${path}`, { method, headers, body: payload });
  const text = await res.text();
  return { status: res.status, json: text === "" ? null : JSON.parse(text), headers: res.headers };
}
