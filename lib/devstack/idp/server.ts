import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type Account, type KoaContextWithOIDC } from "oidc-provider";
import { checkDemoCredentials, DEMO_ACCOUNTS, DEMO_PASSWORD, findDemoAccount } from "./accounts";

export { DEMO_ACCOUNTS, DEMO_PASSWORD } from "./accounts";
export type { DemoAccount } from "./accounts";

/**
 * The embedded OIDC identity provider (DESIGN §3): a development and test component, never a production IdP.
 * Signing keys and cookie keys are generated at every start and everything (sessions, codes, grants) lives in
 * memory, so a restart signs everyone out of the IdP.
 *
 * What it guarantees, because the console relies on it:
 * - authorization code flow only, PKCE (S256) required for every client, client secret at the token endpoint;
 * - the groups claim is in the id_token (`conformIdTokenClaims: false`): Auth.js reads roles from the
 *   id_token and does not call userinfo;
 * - consent is implied for the configured (first-party) clients; login is a username/password form so that
 *   a failed login can be exercised;
 * - every id_token carries `auth_time` (clients are registered with `require_auth_time`), and `prompt=login`
 *   or `max_age` shows the login form again even inside a live IdP session: the console's fresh sign-in
 *   relies on both;
 * - RP-initiated logout ends the IdP session without a confirmation click, so the next login asks again.
 *
 * It runs on plain Node (the launcher and CLI load it with tsx), so it does not import the server-only
 * config module; `assertDevStackAllowed` applies the same rule as `getConfig().devMode`.
 */

export interface DevIdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
}

export interface DevIdpOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Defaults to http://localhost:<port>. Must be exactly the issuer the app is configured with. */
  issuer?: string;
  /** Interface to bind; loopback unless told otherwise. */
  host?: string;
  clients: DevIdpClient[];
  /** Suppress the provider's server-error log lines (tests that provoke errors). */
  quiet?: boolean;
  env?: Record<string, string | undefined>;
}

export interface DevIdp {
  issuer: string;
  port: number;
  close(): Promise<void>;
}

export class DevStackRefusedError extends Error {
  constructor() {
    super(
      "The embedded OIDC identity provider is a dev component and refuses to run in production " +
        "(NODE_ENV=production without KEYSHARE_EMBEDDED=1). Configure AUTH_OIDC_ISSUER for a real IdP.",
    );
    this.name = "DevStackRefusedError";
  }
}

/** Mirrors lib/config/env.ts: production = NODE_ENV=production and not explicitly embedded. */
export function assertDevStackAllowed(env: Record<string, string | undefined> = process.env): void {
  const embedded = env.KEYSHARE_EMBEDDED === "1" || env.KEYSHARE_EMBEDDED === "true";
  if (env.NODE_ENV === "production" && !embedded) throw new DevStackRefusedError();
}

export const DEMO_GROUPS_CLAIM = "groups";

const SESSION_TTL_SECONDS = 8 * 3600;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Keyshare dev IdP</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:48px 16px}
main{max-width:380px;margin:0 auto;background:#fff;border-radius:6px;padding:24px 28px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.25rem;margin:0 0 4px}p.sub{color:#555;margin:0 0 16px;font-size:.9rem}
label{display:block;font-size:.9rem;margin:12px 0 4px}input{width:100%;box-sizing:border-box;padding:8px;font-size:1rem}
button{margin-top:16px;width:100%;padding:10px;font-size:1rem;background:#3b5bdb;color:#fff;border:0;border-radius:4px;cursor:pointer}
.err{background:#ffe3e3;color:#c92a2a;padding:8px 10px;border-radius:4px;margin:12px 0;font-size:.9rem}
.hint{color:#666;font-size:.8rem;margin-top:16px}a{color:#3b5bdb}
</style></head><body><main>${body}</main></body></html>`;
}

function loginPage(uid: string, clientId: string, error?: string, username = ""): string {
  const accounts = DEMO_ACCOUNTS.map((a) => `<code>${escapeHtml(a.username)}</code>`).join(", ");
  return page(
    "Sign in",
    `<h1>Keyshare dev IdP</h1><p class="sub">Sign in to <strong>${escapeHtml(clientId)}</strong></p>
${error ? `<div class="err" role="alert" data-testid="idp-error">${escapeHtml(error)}</div>` : ""}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="username">Username</label><input id="username" name="username" data-testid="idp-username" required autofocus value="${escapeHtml(username)}">
<label for="password">Password</label><input id="password" name="password" type="password" data-testid="idp-password" required>
<button type="submit" data-testid="idp-submit">Sign in</button>
</form>
<p class="hint">DEV ONLY. Accounts: ${accounts}. Password: <code>${escapeHtml(DEMO_PASSWORD)}</code>.
<a href="/interaction/${escapeHtml(uid)}/abort" data-testid="idp-cancel">Cancel</a></p>`,
  );
}

async function readForm(req: IncomingMessage, limit = 16 * 1024): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new Error("form body too large");
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
  });
  res.end(html);
}

function createProvider(issuer: string, clients: DevIdpClient[], quiet: boolean): Provider {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "RS256", use: "sig" };
  const clientIds = new Set(clients.map((c) => c.client_id));

  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      ...c,
      post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      require_auth_time: true,
    })),
    async findAccount(_ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
      const a = findDemoAccount(sub);
      if (!a) return undefined;
      return {
        accountId: a.username,
        claims: () => ({
          sub: a.username,
          name: a.name,
          preferred_username: a.username,
          email: a.email,
          email_verified: true,
          [DEMO_GROUPS_CLAIM]: [...a.groups],
        }),
      };
    },
    claims: {
      openid: ["sub"],
      profile: ["name", "preferred_username"],
      email: ["email", "email_verified"],
      groups: [DEMO_GROUPS_CLAIM],
    },
    // Put every claim of the granted scopes into the id_token: Auth.js takes the profile from it.
    conformIdTokenClaims: false,
    pkce: { required: () => true, methods: ["S256"] },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        // No "are you sure?" page: the console's sign-out button already was the user's decision.
        async logoutSource(ctx: KoaContextWithOIDC, form: string) {
          const withYes = form.replace("</form>", '<input type="hidden" name="logout" value="yes"/></form>');
          ctx.type = "html";
          ctx.body = page(
            "Signing out",
            `<h1>Signing out…</h1>${withYes}<noscript><button type="submit" form="op.logoutForm">Continue</button></noscript>
<script>document.getElementById("op.logoutForm").submit()</script>`,
          );
        },
        async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
          ctx.type = "html";
          ctx.body = page("Signed out", "<h1>Signed out</h1><p>You are signed out of the dev IdP.</p>");
        },
      },
    },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // Consent is implied for the console itself (a first-party client); other clients do not exist here.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const client = ctx.oidc.client;
      const session = ctx.oidc.session;
      if (!client || !session?.accountId) return undefined;
      const existing = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      if (!clientIds.has(client.clientId)) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope("openid profile email groups");
      await grant.save();
      return grant;
    },
    async renderError(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }) {
      ctx.type = "html";
      ctx.body = page(
        "Error",
        `<h1>Sign-in error</h1><div class="err" role="alert">${escapeHtml(out.error ?? "error")}: ${escapeHtml(out.error_description ?? "")}</div>`,
      );
    },
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    ttl: {
      Session: SESSION_TTL_SECONDS,
      Grant: SESSION_TTL_SECONDS,
      Interaction: 15 * 60,
      AuthorizationCode: 60,
      AccessToken: 10 * 60,
      IdToken: 10 * 60,
    },
  });
  if (!quiet) {
    provider.on("server_error", (_ctx: unknown, err: unknown) => {
      console.error("dev IdP server error:", err instanceof Error ? err.message : err);
    });
  }
  return provider;
}

async function handleInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/.exec(path);
  if (!m) return false;
  const action = m[2];
  const details = await provider.interactionDetails(req, res);
  const clientId = String(details.params.client_id ?? "");

  if (action === "/abort" && req.method === "GET") {
    await provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "The user cancelled the sign-in." },
      { mergeWithLastSubmission: false },
    );
    return true;
  }
  if (action === "/login" && req.method === "POST") {
    const form = await readForm(req);
    const username = form.get("username") ?? "";
    const account = checkDemoCredentials(username, form.get("password") ?? "");
    if (!account) {
      send(res, 401, loginPage(details.uid, clientId, "Invalid username or password.", username));
      return true;
    }
    await provider.interactionFinished(req, res, { login: { accountId: account.username } }, { mergeWithLastSubmission: false });
    return true;
  }
  if (!action && req.method === "GET") {
    if (details.prompt.name !== "login") {
      // loadExistingGrant covers consent for our clients; any other prompt is not supported here.
      send(res, 400, page("Error", `<h1>Unsupported prompt</h1><p>${escapeHtml(details.prompt.name)}</p>`));
      return true;
    }
    send(res, 200, loginPage(details.uid, clientId));
    return true;
  }
  res.writeHead(405, { allow: "GET, POST" }).end();
  return true;
}

export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  assertDevStackAllowed(options.env);
  if (options.clients.length === 0) throw new Error("startDevIdp needs at least one client");
  const host = options.host ?? "127.0.0.1";

  let provider: Provider | undefined;
  let providerCallback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    if (!provider || !providerCallback) {
      res.writeHead(503).end();
      return;
    }
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const p = provider;
    const cb = providerCallback;
    handleInteraction(p, req, res, path)
      .then((handled) => {
        if (!handled) cb(req, res);
      })
      .catch((err: unknown) => {
        // Expired or unknown interaction (stale tab, IdP restarted): say so instead of a stack trace.
        if (!res.headersSent) {
          const message = err instanceof Error && err.name === "SessionNotFound" ? "This sign-in attempt expired. Start again from the console." : "The sign-in request could not be processed.";
          send(res, 400, page("Error", `<h1>Sign-in error</h1><div class="err" role="alert">${escapeHtml(message)}</div>`));
        } else {
          res.end();
        }
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = (options.issuer ?? `http://localhost:${port}`).replace(/\/+$/, "");
  provider = createProvider(issuer, options.clients, options.quiet ?? false);
  providerCallback = provider.callback();

  return {
    issuer,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
