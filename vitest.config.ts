import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "server-only": fileURLToPath(new URL("./test/stubs/server-only.ts", import.meta.url)),
      "@": fileURLToPath(new URL("./", import.meta.url)),
    },
  },
  test: {
    include: ["{lib,app,components,scripts,test}/**/*.test.{ts,tsx}"],
    exclude: ["node_modules/**", "e2e/**", ".next/**"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // next-auth is ESM and imports "next/server" without an extension, which Node's resolver refuses; let
    // Vite resolve it (lib/auth/auth-flow.integration.test.ts runs Auth.js's route handlers in-process).
    server: { deps: { inline: ["next-auth"] } },
  },
});
