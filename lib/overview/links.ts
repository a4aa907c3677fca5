/**
 * The Wallets list behind the plaintext-shares counter (the inventory's `flag` filter). Pure and client-safe;
 * the other risk counters' lists are in lib/keys/links.ts.
 */
export const PLAINTEXT_IN_CACHE_HREF = "/wallets?flag=plaintext_in_cache";
