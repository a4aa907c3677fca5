/**
 * A small HTTP/1.1 server on a raw `net` socket.
 *
 * Why not `http.createServer`: Node's llhttp refuses the `LIST` method (HPE_INVALID_METHOD) before any
 * handler runs, and Vault clients (node-vault `list()`, the Vault CLI) send `LIST`. Parsing the request
 * line ourselves is the only way to serve them. Scope is deliberately narrow: one request at a time per
 * connection (pipelined requests wait in the buffer), Content-Length or chunked bodies,
 * `Expect: 100-continue`, keep-alive by HTTP/1.1 rules. Bound to loopback by the caller.
 */
import net from "node:net";

export interface HttpRequest {
  method: string;
  /** Raw request target as sent (path plus optional query). */
  target: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Returning this destroys the connection without answering (fault injection: connection reset). */
export const RESET = Symbol("reset");

export type HttpHandler = (req: HttpRequest) => HttpResponse | typeof RESET | Promise<HttpResponse | typeof RESET>;

export interface RawHttpServerOptions {
  maxBodyBytes: number;
  maxHeaderBytes?: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveTimeoutMs?: number;
  onInternalError?: (err: unknown) => void;
}

const REASONS: Record<number, string> = {
  100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
  207: "Multi-Status", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized",
  403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed",
  413: "Request Entity Too Large", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
  472: "Status 472", 473: "Status 473", 500: "Internal Server Error", 501: "Not Implemented",
  502: "Bad Gateway", 503: "Service Unavailable",
};

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CRLFCRLF = Buffer.from("\r\n\r\n");

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
}

/** Serialises a response. Statuses that forbid a body (1xx, 204, 304) and HEAD get none. */
export function serializeResponse(res: HttpResponse, opts: { head: boolean; close: boolean }): Buffer {
  const noBody = res.status === 204 || res.status === 304 || (res.status >= 100 && res.status < 200);
  const body = noBody || res.body === undefined ? undefined : typeof res.body === "string" ? Buffer.from(res.body) : res.body;
  let head = statusLine(res.status);
  if (res.headers) for (const [k, v] of Object.entries(res.headers)) head += `${k}: ${v}\r\n`;
  head += `Date: ${new Date().toUTCString()}\r\n`;
  if (!noBody) head += `Content-Length: ${body ? body.length : 0}\r\n`;
  head += opts.close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
  const headBuf = Buffer.from(head, "latin1");
  return body && !opts.head ? Buffer.concat([headBuf, body]) : headBuf;
}

type ParseOutcome =
  | { kind: "need-more"; atLeast?: number }
  | { kind: "request"; req: HttpRequest; keepAlive: boolean; consumed: number }
  | { kind: "error"; status: number; message: string };

interface PendingHead {
  method: string;
  target: string;
  headers: Record<string, string>;
  keepAlive: boolean;
  headerBytes: number;
  chunked: boolean;
  contentLength: number;
  expectContinue: boolean;
}

/**
 * Incremental request parser over a growing buffer. Stateless between requests except for the parsed
 * head of the request whose body has not fully arrived yet.
 */
export class RequestParser {
  private pending: PendingHead | null = null;
  continueSent = false;

  constructor(private readonly maxBodyBytes: number, private readonly maxHeaderBytes = 64 * 1024) {}

  get hasPendingHead(): boolean {
    return this.pending !== null;
  }

  get awaitingContinue(): boolean {
    return this.pending !== null && this.pending.expectContinue && !this.continueSent;
  }

  parse(buf: Buffer): ParseOutcome {
    if (!this.pending) {
      // Tolerate stray CRLFs between requests (RFC 9112 §2.2).
      let start = 0;
      while (start + 1 < buf.length && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
      const end = buf.indexOf(CRLFCRLF, start);
      if (end < 0) {
        if (buf.length > this.maxHeaderBytes) return { kind: "error", status: 431, message: "request header too large" };
        return { kind: "need-more" };
      }
      if (end - start > this.maxHeaderBytes) return { kind: "error", status: 431, message: "request header too large" };
      const head = this.parseHead(buf.toString("latin1", start, end), end + 4);
      if ("status" in head) return { kind: "error", ...head };
      this.pending = head;
      this.continueSent = false;
    }
    const p = this.pending;
    let body: Buffer;
    let consumed: number;
    if (p.chunked) {
      const r = this.parseChunked(buf, p.headerBytes);
      if (r === null) return { kind: "need-more" };
      if ("status" in r) return { kind: "error", ...r };
      body = r.body;
      consumed = r.consumed;
    } else {
      if (buf.length < p.headerBytes + p.contentLength) return { kind: "need-more", atLeast: p.headerBytes + p.contentLength };
      body = buf.subarray(p.headerBytes, p.headerBytes + p.contentLength);
      consumed = p.headerBytes + p.contentLength;
    }
    this.pending = null;
    return { kind: "request", req: { method: p.method, target: p.target, headers: p.headers, body }, keepAlive: p.keepAlive, consumed };
  }

  private parseHead(text: string, headerBytes: number): PendingHead | { status: number; message: string } {
    const lines = text.split("\r\n");
    const requestLine = lines[0] ?? "";
    const parts = requestLine.split(" ");
    if (parts.length !== 3) return { status: 400, message: "malformed request line" };
    const [method, target, version] = parts as [string, string, string];
    if (!TOKEN_RE.test(method) || target === "" || !/^HTTP\/1\.[01]$/.test(version)) {
      return { status: 400, message: "malformed request line" };
    }
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      if (colon <= 0) return { status: 400, message: "malformed header" };
      const name = line.slice(0, colon).toLowerCase();
      if (!TOKEN_RE.test(name)) return { status: 400, message: "malformed header" };
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const connection = (headers["connection"] ?? "").toLowerCase();
    const keepAlive = version === "HTTP/1.1" ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const te = headers["transfer-encoding"];
    let chunked = false;
    let contentLength = 0;
    if (te !== undefined) {
      // Only plain chunked is supported; anything else cannot be framed safely, so refuse it.
      if (te.toLowerCase() !== "chunked") return { status: 400, message: "unsupported transfer-encoding" };
      chunked = true;
    } else if (headers["content-length"] !== undefined) {
      const cl = headers["content-length"];
      if (!/^\d+$/.test(cl)) return { status: 400, message: "invalid content-length" };
      contentLength = Number(cl);
      if (contentLength > this.maxBodyBytes) return { status: 413, message: "http: request body too large" };
    }
    const expectContinue = (headers["expect"] ?? "").toLowerCase() === "100-continue";
    return { method, target, headers, keepAlive, headerBytes, chunked, contentLength, expectContinue };
  }

  private parseChunked(buf: Buffer, offset: number): { body: Buffer; consumed: number } | { status: number; message: string } | null {
    const parts: Buffer[] = [];
    let total = 0;
    let pos = offset;
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", pos, "latin1");
      if (lineEnd < 0) return buf.length - pos > 1024 ? { status: 400, message: "malformed chunk" } : null;
      const sizeText = buf.toString("latin1", pos, lineEnd).split(";")[0]?.trim() ?? "";
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return { status: 400, message: "malformed chunk" };
      const size = parseInt(sizeText, 16);
      if (total + size > this.maxBodyBytes) return { status: 413, message: "http: request body too large" };
      pos = lineEnd + 2;
      if (size === 0) {
        // Trailers (ignored) end with an empty line.
        for (;;) {
          const tEnd = buf.indexOf("\r\n", pos, "latin1");
          if (tEnd < 0) return null;
          const empty = tEnd === pos;
          pos = tEnd + 2;
          if (empty) return { body: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total), consumed: pos };
        }
      }
      if (buf.length < pos + size + 2) return null;
      if (buf[pos + size] !== 0x0d || buf[pos + size + 1] !== 0x0a) return { status: 400, message: "malformed chunk" };
      parts.push(buf.subarray(pos, pos + size));
      total += size;
      pos += size + 2;
    }
  }
}

export interface RawHttpServer {
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export function createRawHttpServer(handler: HttpHandler, opts: RawHttpServerOptions): RawHttpServer {
  const sockets = new Set<net.Socket>();
  const keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 120_000;

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(keepAliveTimeoutMs, () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());

    const parser = new RequestParser(opts.maxBodyBytes, opts.maxHeaderBytes);
    let chunks: Buffer[] = [];
    let buffered = 0;
    let busy = false;
    let closing = false;
    // Re-parsing the whole buffer on every packet would be quadratic for large bodies, so remember how
    // much must arrive before another attempt can succeed.
    let waitFor = 0;
    let waitForTerminator = false;

    const takeBuffer = (): Buffer => {
      if (chunks.length !== 1) chunks = [Buffer.concat(chunks, buffered)];
      return chunks[0] as Buffer;
    };

    const sendAndMaybeClose = (res: HttpResponse, head: boolean, close: boolean): void => {
      if (socket.destroyed) return;
      socket.write(serializeResponse(res, { head, close }));
      if (close) {
        closing = true;
        socket.end();
      }
    };

    const pump = (): void => {
      while (!busy && !closing && buffered > 0 && !socket.destroyed) {
        if (buffered < waitFor) return;
        const buf = takeBuffer();
        const out = parser.parse(buf);
        waitFor = 0;
        waitForTerminator = false;
        if (out.kind === "need-more") {
          if (out.atLeast !== undefined) waitFor = out.atLeast;
          else if (parser.hasPendingHead) waitForTerminator = true;
          if (parser.awaitingContinue) {
            parser.continueSent = true;
            socket.write("HTTP/1.1 100 Continue\r\n\r\n");
          }
          return;
        }
        if (out.kind === "error") {
          // Framing is lost after a parse error, so the connection cannot be reused.
          sendAndMaybeClose(
            { status: out.status, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ errors: [out.message] }) },
            false,
            true,
          );
          return;
        }
        const rest = buf.subarray(out.consumed);
        chunks = rest.length > 0 ? [rest] : [];
        buffered = rest.length;
        busy = true;
        const isHead = out.req.method === "HEAD";
        const finish = (res: HttpResponse | typeof RESET): void => {
          busy = false;
          if (res === RESET) {
            if (!socket.destroyed) socket.resetAndDestroy();
            return;
          }
          sendAndMaybeClose(res, isHead, !out.keepAlive);
          if (!closing) pump();
        };
        const fail = (err: unknown): void => {
          opts.onInternalError?.(err);
          finish({
            status: 500,
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ errors: ["1 error occurred:\n\t* internal error\n\n"] }),
          });
        };
        try {
          const r = handler(out.req);
          if (r instanceof Promise) r.then(finish, fail);
          else finish(r);
        } catch (err) {
          fail(err);
        }
      }
    };

    socket.on("data", (chunk: Buffer) => {
      if (closing) return;
      chunks.push(chunk);
      buffered += chunk.length;
      // A chunked body can only be complete once a packet ends its final CRLF (or carries a blank line).
      if (waitForTerminator && chunk[chunk.length - 1] !== 0x0a && chunk.indexOf(CRLFCRLF) < 0) return;
      pump();
    });
  });

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const addr = server.address();
          resolve(typeof addr === "object" && addr ? addr.port : port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
