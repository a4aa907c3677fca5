import { customType } from "drizzle-orm/pg-core";

/**
 * `bytea` as a Uint8Array. postgres.js hands back a Buffer and PGlite a Uint8Array; both are Uint8Array.
 * Only seeding and re-wrap paths may ever select a bytea column of the share table (DESIGN §2).
 */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType() {
    return "bytea";
  },
  toDriver(value) {
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  },
});
