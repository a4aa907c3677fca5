/**
 * Static security headers for every response. The Content-Security-Policy (with a per-request nonce) is set
 * in proxy.ts, because a nonce needs the request; these are the parts that never change.
 * @type {import('next').NextConfig}
 */
const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "no-referrer" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  ...(process.env.NODE_ENV === "production" && process.env.KEYSHARE_EMBEDDED !== "1"
    ? [{ key: "Strict-Transport-Security", value: "max-age=63072000; includeSubDomains" }]
    : []),
];

const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // PGlite ships WebAssembly and reads its data files from its own package folder; oidc-provider and pino
  // load optional modules dynamically. Bundling any of them breaks them, so Node loads them as they are.
  serverExternalPackages: ["@electric-sql/pglite", "oidc-provider", "pino", "node-vault", "postgres"],
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
