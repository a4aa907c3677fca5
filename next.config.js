/**
 * Static security headers for every response, static files included. The Content-Security-Policy (a nonce
 * needs the request) and Strict-Transport-Security are set per request in proxy.ts from the validated
 * configuration: this file is read at build time, and one build serves the embedded launcher and production.
 */
const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "no-referrer" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
];

/** @type {import('next').NextConfig} */
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
