import "server-only";
import type { Logger } from "pino";
import { isObject } from "./codec";
import { VaultError, VaultPermissionDeniedError, VaultProtocolError, VaultUnavailableError } from "./errors";
import type { AuthHooks, Transport } from "./transport";

export interface AppRoleCredentials {
  roleId: string;
  secretId: string;
  mount: string;
}

/** Renew when this fraction of the lease has elapsed. */
const RENEW_AT = 2 / 3;
/** Treat a token as expired this long before Vault would, to absorb clock and request latency. */
const EXPIRY_MARGIN_MS = 5_000;

/**
 * AppRole login with renewal before expiry.
 *
 * - Login is lazy (first call) and shared: concurrent callers wait on one login request.
 * - A timer renews the token (`auth/token/renew-self`) at 2/3 of its lease. When the renewal fails, the
 *   token is not renewable, or Vault grants less than a third of the original lease (the token is nearing
 *   its max TTL), it logs in again instead.
 * - `ensure()` also checks the expiry time itself, so a missed timer (suspended process) cannot leave a
 *   dead token in use; a 403 triggers one fresh login (see Transport).
 * - The secret id stays in this object; it is sent only in the login body and never logged.
 */
export class AppRoleAuth implements AuthHooks {
  private expiresAt = 0;
  private marginMs = EXPIRY_MARGIN_MS;
  private leaseSeconds = 0;
  private renewable = false;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly creds: AppRoleCredentials,
    private readonly log: Logger,
  ) {}

  async ensure(): Promise<void> {
    if (this.transport.currentToken && Date.now() < this.expiresAt - this.marginMs) return;
    await this.login();
  }

  async refreshAfterDenied(): Promise<boolean> {
    this.expiresAt = 0;
    await this.login();
    return true;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private login(): Promise<void> {
    this.inflight ??= this.doLogin().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async doLogin(): Promise<void> {
    let body: unknown;
    try {
      body = await this.transport.send({
        operation: "login",
        method: "POST",
        path: `auth/${this.creds.mount}/login`,
        body: { role_id: this.creds.roleId, secret_id: this.creds.secretId },
        retry: "idempotent",
        authenticated: false,
      });
    } catch (err) {
      // AppRole answers a wrong role or secret id with 400 ("invalid role or secret ID"); to callers that is a denial.
      if (err instanceof VaultError && err.vaultStatus === 400) {
        throw new VaultPermissionDeniedError("Vault AppRole login was refused.", { operation: "login", status: 400 });
      }
      throw err;
    }
    const auth = isObject(body) && isObject(body.auth) ? body.auth : undefined;
    const token = auth && typeof auth.client_token === "string" ? auth.client_token : undefined;
    if (!auth || !token) throw new VaultProtocolError("Vault AppRole login returned no token.", { operation: "login" });
    const lease = typeof auth.lease_duration === "number" ? auth.lease_duration : 0;
    this.transport.setToken(token);
    this.leaseSeconds = lease;
    this.renewable = auth.renewable === true;
    this.expiresAt = lease > 0 ? Date.now() + lease * 1000 : Number.POSITIVE_INFINITY;
    this.marginMs = Math.min(EXPIRY_MARGIN_MS, lease * 100);
    this.log.info({ mount: this.creds.mount, leaseSeconds: lease, renewable: this.renewable }, "vault approle login");
    this.schedule(lease);
  }

  private schedule(leaseSeconds: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || leaseSeconds <= 0) return;
    const delay = Math.max(500, leaseSeconds * 1000 * RENEW_AT);
    this.timer = setTimeout(() => void this.renewOrRelogin(), delay);
    // The renewal timer must not keep a CLI or test process alive.
    this.timer.unref();
  }

  private async renewOrRelogin(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    try {
      if (this.renewable && (await this.renew())) return;
      await this.login();
    } catch (err) {
      // Next call logs in again through ensure(); nothing to do here but record it.
      this.expiresAt = 0;
      this.log.warn(
        { error: err instanceof VaultError ? err.name : "Error", reason: err instanceof VaultUnavailableError ? err.reason : undefined },
        "vault token renewal failed",
      );
    }
  }

  /** true when renewed with enough lease left; false when a fresh login is the better move. */
  private async renew(): Promise<boolean> {
    let body: unknown;
    try {
      body = await this.transport.send({ operation: "renewToken", method: "POST", path: "auth/token/renew-self", body: {}, retry: "idempotent", authHooks: false });
    } catch (err) {
      this.log.warn({ error: err instanceof VaultError ? err.name : "Error" }, "vault token renew-self failed; logging in again");
      return false;
    }
    const auth = isObject(body) && isObject(body.auth) ? body.auth : undefined;
    const lease = auth && typeof auth.lease_duration === "number" ? auth.lease_duration : 0;
    if (!auth || lease <= 0 || auth.renewable === false || lease < this.leaseSeconds / 3) return false;
    if (this.closed) return true;
    this.renewable = auth.renewable === true;
    this.expiresAt = Date.now() + lease * 1000;
    this.marginMs = Math.min(EXPIRY_MARGIN_MS, lease * 100);
    this.log.debug({ leaseSeconds: lease }, "vault token renewed");
    this.schedule(lease);
    return true;
  }
}

/**
 * A configured token (VAULT_TOKEN). Root and dev tokens never expire (ttl 0) and need nothing; a periodic
 * or otherwise renewable service token dies at the end of its period unless renewed, so on first use the
 * token's own record is read (`auth/token/lookup-self`) and, when it has a TTL and is renewable,
 * `renew-self` runs at 2/3 of each lease. There is nothing to log in with, so a 403 is final.
 */
export class StaticTokenRenewal implements AuthHooks {
  private nextLookupAt = 0;
  private looked = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly log: Logger,
  ) {}

  /** Never blocks or fails the call: the lookup runs in the background on first use. */
  async ensure(): Promise<void> {
    if (this.looked || this.closed || Date.now() < this.nextLookupAt) return;
    this.looked = true;
    void this.lookup();
  }

  private async lookup(): Promise<void> {
    try {
      const body = await this.transport.send({
        operation: "renewToken",
        method: "GET",
        path: "auth/token/lookup-self",
        retry: "idempotent",
        authHooks: false,
      });
      const data = isObject(body) && isObject(body.data) ? body.data : undefined;
      const ttl = data && typeof data.ttl === "number" ? data.ttl : 0;
      if (ttl > 0 && data?.renewable === true) this.schedule(ttl);
      else if (ttl > 0) this.log.warn({ ttlSeconds: ttl }, "vault token is not renewable and will expire");
    } catch (err) {
      // A periodic token must not be left unrenewed: look again on a call a minute from now.
      this.looked = false;
      this.nextLookupAt = Date.now() + 60_000;
      this.log.warn({ error: err instanceof VaultError ? err.name : "Error" }, "vault token lookup-self failed");
    }
  }

  async refreshAfterDenied(): Promise<boolean> {
    return false;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(leaseSeconds: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || leaseSeconds <= 0) return;
    this.timer = setTimeout(() => void this.renew(), Math.max(500, leaseSeconds * 1000 * RENEW_AT));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    try {
      const body = await this.transport.send({ operation: "renewToken", method: "POST", path: "auth/token/renew-self", body: {}, retry: "idempotent", authHooks: false });
      const auth = isObject(body) && isObject(body.auth) ? body.auth : undefined;
      const lease = auth && typeof auth.lease_duration === "number" ? auth.lease_duration : 0;
      this.log.debug({ leaseSeconds: lease }, "vault token renewed");
      if (auth?.renewable !== false) this.schedule(lease);
    } catch (err) {
      this.log.warn({ error: err instanceof VaultError ? err.name : "Error" }, "vault token renew-self failed");
      // A denied token is dead (revoked or expired); otherwise try again well before the lease runs out.
      if (!(err instanceof VaultPermissionDeniedError)) this.schedule(15);
    }
  }
}
