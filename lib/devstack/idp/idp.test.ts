import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ROLE_MAPPING } from "@/lib/config/env";
import { DEMO_ACCOUNTS, DEMO_PASSWORD, DevStackRefusedError, startDevIdp, type DevIdp } from "./server";

/**
 * The dev IdP driven over HTTP exactly as a browser and Auth.js would: authorization code + PKCE, the
 * login form, the token endpoint with client_secret_basic, and RP-initiated logout.
 */

const CLIENT_ID = "keyshare-console";
const CLIENT_SECRET = "test-secret-" + randomBytes(8).toString("hex");
const REDIRECT_URI = "http://localhost:3999/api/auth/callback/oidc";
const POST_LOGOUT = "http://localhost:3999/signed-out";

let idp: DevIdp;
let discovery: { authorization_endpoint: string; token_endpoint: string; jwks_uri: string; end_session_endpoint: string; issuer: string };

class Jar {
  private cookies = new Map<string, string>();
  store(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

async function get(url: string, jar: Jar): Promise<Response> {
  const res = await fetch(url, { redirect: "manual", headers: { cookie: jar.header() } });
  jar.store(res);
  return res;
}

async function postForm(url: string, jar: Jar, form: Record<string, string>): Promise<Response> {
  const res = await fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  jar.store(res);
  return res;
}

const b64url = (b: Buffer) => b.toString("base64url");

function authorizeUrl(params: Record<string, string>): string {
  const u = new URL(discovery.authorization_endpoint);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** Follows redirects on the IdP until one leaves it (to the client) or a page is rendered. */
async function follow(res: Response, jar: Jar): Promise<Response> {
  let r = res;
  for (let i = 0; i < 10 && r.status >= 300 && r.status < 400; i++) {
    const loc = new URL(r.headers.get("location")!, idp.issuer).toString();
    if (!loc.startsWith(idp.issuer)) return r;
    r = await get(loc, jar);
  }
  return r;
}

async function startLogin(jar: Jar, extra: Record<string, string> = {}) {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const res = await get(
    authorizeUrl({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid profile email groups",
      state,
      nonce,
      code_challenge: b64url(createHash("sha256").update(verifier).digest()),
      code_challenge_method: "S256",
      ...extra,
    }),
    jar,
  );
  expect(res.status).toBe(303);
  const interaction = new URL(res.headers.get("location")!, idp.issuer).toString();
  expect(interaction).toMatch(/\/interaction\/[\w-]+$/);
  return { verifier, state, nonce, interaction };
}

async function verifyIdToken(idToken: string): Promise<Record<string, unknown>> {
  const [h, p, s] = idToken.split(".") as [string, string, string];
  const header = JSON.parse(Buffer.from(h, "base64url").toString()) as { kid: string; alg: string };
  expect(header.alg).toBe("RS256");
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: (JsonWebKey & { kid: string })[] };
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  expect(jwk).toBeDefined();
  const ok = verify("RSA-SHA256", Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk!, format: "jwk" }), Buffer.from(s, "base64url"));
  expect(ok).toBe(true);
  return JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
}

/** Full login as `username`; returns the verified id_token claims. */
async function loginAs(
  username: string,
  jar = new Jar(),
  extra: Record<string, string> = {},
): Promise<{ claims: Record<string, unknown>; jar: Jar; idToken: string }> {
  const { verifier, state, nonce, interaction } = await startLogin(jar, extra);
  const form = await get(interaction, jar);
  expect(form.status).toBe(200);
  expect(await form.text()).toContain('data-testid="idp-username"');

  const submitted = await postForm(`${interaction}/login`, jar, { username, password: DEMO_PASSWORD });
  expect(submitted.status).toBe(303);
  const back = await follow(submitted, jar);
  expect(back.status).toBe(303);
  const cb = new URL(back.headers.get("location")!);
  expect(`${cb.origin}${cb.pathname}`).toBe(REDIRECT_URI);
  expect(cb.searchParams.get("state")).toBe(state);
  const code = cb.searchParams.get("code");
  expect(code).toBeTruthy();

  const tokenRes = await fetch(discovery.token_endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "authorization_code", code: code!, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  expect(tokenRes.status).toBe(200);
  const tokens = (await tokenRes.json()) as { id_token: string };
  const claims = await verifyIdToken(tokens.id_token);
  expect(claims.iss).toBe(idp.issuer);
  expect(claims.aud).toBe(CLIENT_ID);
  expect(claims.nonce).toBe(nonce);
  return { claims, jar, idToken: tokens.id_token };
}

beforeAll(async () => {
  idp = await startDevIdp({
    port: 0,
    quiet: true,
    env: { NODE_ENV: "test" },
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI], post_logout_redirect_uris: [POST_LOGOUT] }],
  });
  discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as typeof discovery;
});

afterAll(async () => {
  await idp?.close();
});

describe("dev IdP", () => {
  it("publishes discovery for exactly its issuer (host must match the app's AUTH_OIDC_ISSUER)", () => {
    expect(idp.issuer).toMatch(/^http:\/\/localhost:\d+$/);
    expect(discovery.issuer).toBe(idp.issuer);
    expect(discovery.end_session_endpoint).toBe(`${idp.issuer}/session/end`);
  });

  it.each(DEMO_ACCOUNTS.map((a) => [a.username, a.groups] as const))(
    "%s logs in with code + PKCE and the id_token carries groups %j",
    async (username, groups) => {
      const { claims } = await loginAs(username);
      expect(claims.sub).toBe(username);
      expect(claims.groups).toEqual(groups);
      expect(typeof claims.email).toBe("string");
    },
  );

  it("maps every role account to its role and leaves nobody unmapped", () => {
    const roleOf = (u: string) => DEMO_ACCOUNTS.find((a) => a.username === u)!.groups.map((g) => DEMO_ROLE_MAPPING[g]);
    expect(roleOf("admin")).toEqual(["admin"]);
    expect(roleOf("officer")).toEqual(["officer"]);
    expect(roleOf("officer2")).toEqual(["officer"]);
    expect(roleOf("operator")).toEqual(["operator"]);
    expect(roleOf("auditor")).toEqual(["auditor"]);
    expect(roleOf("viewer")).toEqual(["viewer"]);
    expect(roleOf("nobody")).toEqual([undefined]);
  });

  it("rejects a wrong password and an unknown user with the login form and an error", async () => {
    const jar = new Jar();
    const { interaction } = await startLogin(jar);
    for (const [username, password] of [
      ["viewer", "wrong-password"],
      ["mallory", DEMO_PASSWORD],
    ] as const) {
      const res = await postForm(`${interaction}/login`, jar, { username, password });
      expect(res.status).toBe(401);
      const html = await res.text();
      expect(html).toContain("Invalid username or password.");
      expect(res.headers.get("location")).toBeNull();
    }
  });

  it("requires PKCE", async () => {
    const jar = new Jar();
    const res = await get(
      authorizeUrl({ client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, response_type: "code", scope: "openid", state: "s" }),
      jar,
    );
    expect(res.status).toBe(303);
    const loc = new URL(res.headers.get("location")!);
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT_URI);
    expect(loc.searchParams.get("error")).toBe("invalid_request");
    expect(loc.searchParams.get("code")).toBeNull();
  });

  it("refuses an unregistered redirect_uri", async () => {
    const jar = new Jar();
    const res = await get(
      authorizeUrl({
        client_id: CLIENT_ID,
        redirect_uri: "http://evil.example/cb",
        response_type: "code",
        scope: "openid",
        code_challenge: "x".repeat(43),
        code_challenge_method: "S256",
      }),
      jar,
    );
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
  });

  it("cancel returns access_denied to the client", async () => {
    const jar = new Jar();
    const { interaction, state } = await startLogin(jar);
    const res = await follow(await get(`${interaction}/abort`, jar), jar);
    const loc = new URL(res.headers.get("location")!);
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT_URI);
    expect(loc.searchParams.get("error")).toBe("access_denied");
    expect(loc.searchParams.get("state")).toBe(state);
  });

  it("RP-initiated logout with client_id ends the IdP session, so the next login shows the form again", async () => {
    const { jar } = await loginAs("viewer");
    // Still signed in at the IdP: a second authorization skips the form.
    const again = await startLogin(jar, {}).catch(() => null);
    expect(again).toBeNull();

    const end = new URL(discovery.end_session_endpoint);
    end.searchParams.set("client_id", CLIENT_ID);
    end.searchParams.set("post_logout_redirect_uri", POST_LOGOUT);
    const confirm = await get(end.toString(), jar);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(html).toContain('name="logout" value="yes"');
    const done = await postForm(new URL(action!, idp.issuer).toString(), jar, { xsrf: xsrf!, logout: "yes" });
    const out = await follow(done, jar);
    expect(out.headers.get("location")).toBe(POST_LOGOUT);

    const fresh = await startLogin(jar);
    expect((await get(fresh.interaction, jar)).status).toBe(200);
  });

  it("puts auth_time (the moment of the password login) in every id_token", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { claims } = await loginAs("officer");
    expect(typeof claims.auth_time).toBe("number");
    expect(claims.auth_time as number).toBeGreaterThanOrEqual(before - 1);
    expect(claims.auth_time as number).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
  });

  it.each([
    ["prompt=login", { prompt: "login" }],
    ["max_age=0", { max_age: "0" }],
  ])("%s shows the login form again inside a live IdP session, and auth_time moves to the new login", async (_label, params) => {
    const first = await loginAs("officer2");
    // Without it the live IdP session answers at once (no form).
    expect(await startLogin(first.jar).catch(() => null)).toBeNull();
    await new Promise((r) => setTimeout(r, 1100));
    const again = await loginAs("officer2", first.jar, params);
    expect(again.claims.sub).toBe("officer2");
    expect(again.claims.auth_time as number).toBeGreaterThan(first.claims.auth_time as number);
  });

  it("refuses to start in production", async () => {
    await expect(
      startDevIdp({ port: 0, env: { NODE_ENV: "production" }, clients: [{ client_id: "c", client_secret: "s", redirect_uris: [REDIRECT_URI] }] }),
    ).rejects.toBeInstanceOf(DevStackRefusedError);
  });
});
