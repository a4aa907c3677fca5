/**
 * `npm run idp:dev`: the embedded OIDC identity provider on its own (DEV ONLY), e.g. to run `next dev`
 * against it. The launcher (`npm start`) starts it itself; this is for working on auth in isolation.
 *
 *   KEYSHARE_IDP_PORT=3001 APP_URL=http://localhost:3000 \
 *   AUTH_OIDC_CLIENT_ID=keyshare-console AUTH_OIDC_CLIENT_SECRET=… npm run idp:dev
 */
import { randomBytes } from "node:crypto";
import { DEMO_ACCOUNTS, DEMO_PASSWORD, startDevIdp } from "./server";

const port = Number(process.env.KEYSHARE_IDP_PORT ?? 3001);
const appUrl = (process.env.APP_URL ?? "http://localhost:3000").replace(/\/+$/, "");
const clientId = process.env.AUTH_OIDC_CLIENT_ID ?? "keyshare-console";
const generated = !process.env.AUTH_OIDC_CLIENT_SECRET;
const clientSecret = process.env.AUTH_OIDC_CLIENT_SECRET ?? randomBytes(24).toString("base64url");

const idp = await startDevIdp({
  port,
  issuer: process.env.AUTH_OIDC_ISSUER,
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${appUrl}/api/auth/callback/oidc`],
      post_logout_redirect_uris: [`${appUrl}/signed-out`, `${appUrl}/login`],
    },
  ],
});

console.log(
  [
    `Dev OIDC IdP (DEV ONLY) — issuer ${idp.issuer}`,
    `  client_id ${clientId}${generated ? `, client_secret ${clientSecret} (generated; set AUTH_OIDC_CLIENT_SECRET to fix it)` : ""}`,
    `  redirect ${appUrl}/api/auth/callback/oidc`,
    `  accounts: ${DEMO_ACCOUNTS.map((a) => `${a.username} [${a.groups.join(",")}]`).join(", ")}`,
    `  password: ${DEMO_PASSWORD}`,
  ].join("\n"),
);

const stop = () => void idp.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
