import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestParser } from "./http-server";
import { startTransitServer, type RunningTransitServer } from "./server";
import { connect, rawRequest } from "./test-helpers";

describe("RequestParser", () => {
  const parser = () => new RequestParser(1024);

  it("accepts the LIST method and HTTP/1.1 keep-alive defaults", () => {
    const out = parser().parse(Buffer.from("LIST /v1/transit/keys HTTP/1.1\r\nHost: x\r\n\r\n"));
    expect(out).toMatchObject({ kind: "request", keepAlive: true, req: { method: "LIST", target: "/v1/transit/keys" } });
  });

  it("honours Connection: close and HTTP/1.0 rules", () => {
    expect(parser().parse(Buffer.from("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))).toMatchObject({ keepAlive: false });
    expect(parser().parse(Buffer.from("GET / HTTP/1.0\r\n\r\n"))).toMatchObject({ keepAlive: false });
    expect(parser().parse(Buffer.from("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))).toMatchObject({ keepAlive: true });
  });

  it("waits for the whole Content-Length body and reports what it consumed", () => {
    const p = parser();
    const msg = Buffer.from('POST /a HTTP/1.1\r\nContent-Length: 7\r\n\r\n{"a":1}GET /b HTTP/1.1\r\n\r\n');
    expect(p.parse(msg.subarray(0, 45))).toMatchObject({ kind: "need-more" });
    const out = p.parse(msg);
    if (out.kind !== "request") throw new Error(out.kind);
    expect(out.req.body.toString()).toBe('{"a":1}');
    expect(p.parse(msg.subarray(out.consumed))).toMatchObject({ kind: "request", req: { method: "GET", target: "/b" } });
  });

  it("decodes chunked bodies", () => {
    const out = parser().parse(Buffer.from("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"));
    expect(out.kind === "request" && out.req.body.toString()).toBe("abcde");
  });

  it("rejects malformed framing and oversized bodies", () => {
    expect(parser().parse(Buffer.from("GARBAGE\r\n\r\n"))).toMatchObject({ kind: "error", status: 400 });
    expect(parser().parse(Buffer.from("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"))).toMatchObject({ kind: "error", status: 400 });
    expect(parser().parse(Buffer.from("GET / HTTP/1.1\r\nno colon\r\n\r\n"))).toMatchObject({ kind: "error", status: 400 });
    expect(parser().parse(Buffer.from("POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n"))).toMatchObject({ kind: "error", status: 413 });
    expect(parser().parse(Buffer.from("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfff\r\n"))).toMatchObject({ kind: "error", status: 413 });
  });
});

describe("socket behaviour", () => {
  let srv: RunningTransitServer;
  beforeAll(async () => {
    srv = await startTransitServer({ port: 0, quiet: true, rootToken: "root" });
    const res = await fetch(`${srv.url}/v1/transit/keys/k1`, { method: "POST", headers: { "X-Vault-Token": "root" } });
    expect(res.status).toBe(200);
  });
  afterAll(() => srv.close());

  it("serves the real LIST verb", async () => {
    const { socket, reader } = await connect(srv.url);
    socket.write(rawRequest("LIST", "/v1/transit/keys", { token: "root" }));
    const r = await reader.next();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).data.keys).toEqual(["k1"]);
    socket.destroy();
  });

  it.each(["true", "1", "t", "TRUE", "True", "T"])("serves GET ?list=%s as a list", async (v) => {
    const res = await fetch(`${srv.url}/v1/transit/keys?list=${v}`, { headers: { "X-Vault-Token": "root" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { keys: string[] } }).data.keys).toEqual(["k1"]);
  });

  it("treats ?list=false as a read and an unparsable value as 400 with no error text", async () => {
    const read = await fetch(`${srv.url}/v1/transit/keys?list=false`, { headers: { "X-Vault-Token": "root" } });
    expect(read.status).toBe(405); // keys/ only supports list
    const bad = await fetch(`${srv.url}/v1/transit/keys?list=yes`, { headers: { "X-Vault-Token": "root" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ errors: [] });
  });

  it("keeps connections alive across many requests, including pipelined ones", async () => {
    const { socket, reader } = await connect(srv.url);
    for (let i = 0; i < 20; i++) {
      socket.write(rawRequest("POST", "/v1/transit/encrypt/k1", { token: "root", body: JSON.stringify({ plaintext: "aGk=" }) }));
      const r = await reader.next();
      expect(r.status).toBe(200);
      expect(r.headers["connection"]).toBe("keep-alive");
    }
    // Three pipelined requests in one write come back in order on the same socket.
    socket.write(Buffer.concat([
      rawRequest("GET", "/v1/sys/health"),
      rawRequest("LIST", "/v1/transit/keys", { token: "root" }),
      rawRequest("GET", "/v1/transit/keys/nope", { token: "root" }),
    ]));
    expect((await reader.next()).status).toBe(200);
    expect((await reader.next()).status).toBe(200);
    expect((await reader.next()).status).toBe(404);
    expect(reader.closed).toBe(false);
    socket.destroy();
  });

  it("reuses sockets through a keep-alive http.Agent", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${srv.url}/v1/sys/health`, { agent }, (res) => {
          res.resume();
          res.on("end", resolve);
        });
        req.on("error", reject);
        req.end();
        reused.push(req.reusedSocket);
      });
    }
    agent.destroy();
    expect(reused).toEqual([false, true, true, true, true]);
  });

  it("closes after Connection: close", async () => {
    const { socket, reader } = await connect(srv.url);
    socket.write(rawRequest("GET", "/v1/sys/health", { headers: { Connection: "close" } }));
    const r = await reader.next();
    expect(r.headers["connection"]).toBe("close");
    await new Promise((resolve) => socket.once("close", resolve));
  });

  it("answers 100-continue before the body arrives", async () => {
    const { socket, reader } = await connect(srv.url);
    const body = JSON.stringify({ plaintext: "aGk=" });
    socket.write(
      `POST /v1/transit/encrypt/k1 HTTP/1.1\r\nX-Vault-Token: root\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    expect((await reader.next()).status).toBe(100);
    socket.write(body);
    expect((await reader.next()).status).toBe(200);
    socket.destroy();
  });

  it("answers 413 for a body over 32 MiB without reading it", async () => {
    const { socket, reader } = await connect(srv.url);
    socket.write(`POST /v1/transit/encrypt/k1 HTTP/1.1\r\nX-Vault-Token: root\r\nContent-Length: ${32 * 1024 * 1024 + 1}\r\n\r\n`);
    const r = await reader.next();
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toEqual({ errors: ["http: request body too large"] });
    socket.destroy();
  });

  it("HEAD gets headers only", async () => {
    const { socket, reader } = await connect(srv.url);
    socket.write(rawRequest("HEAD", "/v1/sys/health"));
    const r = await reader.next({ head: true });
    expect(r.status).toBe(200);
    expect(Number(r.headers["content-length"])).toBeGreaterThan(0);
    expect(r.body).toBe("");
    socket.write(rawRequest("GET", "/v1/sys/health"));
    expect(JSON.parse((await reader.next()).body).sealed).toBe(false);
    socket.destroy();
  });
});
