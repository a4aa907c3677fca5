import { defineConfig } from "drizzle-kit";

/**
 * drizzle-kit only generates SQL here (`npm run db:generate`); it never connects. Migrations are applied by
 * `lib/db/migrate.ts` for both PostgreSQL and PGlite. Schema files must stay free of `server-only`
 * because drizzle-kit loads them outside any React Server bundle.
 */
export default defineConfig({
  dialect: "postgresql",
  schema: "./lib/db/schema/*.ts",
  out: "./drizzle",
  strict: true,
  verbose: true,
});
