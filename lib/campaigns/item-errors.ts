/**
 * Per-item `rewrap` failures (Vault answers 200 with an `error` on the item). Vault reports these as user
 * errors; the ones below cannot succeed by repeating the same item, so they are quarantined after the
 * campaign's `max_item_attempts` tries. Anything else (an internal hiccup on one item) is retried in later
 * batches and quarantined only after TRANSIENT_ITEM_ATTEMPT_LIMIT tries, so a campaign can never loop forever.
 */
export const TRANSIENT_ITEM_ATTEMPT_LIMIT = 10;

export type ItemErrorCode = "missing_context" | "bad_ciphertext" | "version_disallowed" | "unknown_version" | "unparseable" | "transient";

const PERMANENT: [RegExp, ItemErrorCode][] = [
  [/missing.*context|context.*(required|missing)|key derivation/i, "missing_context"],
  [/disallowed by policy|minimum (decryption|encryption)|less than the minimum|too old/i, "version_disallowed"],
  [/no such key version|version is too new|version does not exist|higher than the latest/i, "unknown_version"],
  [/invalid ciphertext|message authentication failed|could not decode|illegal base64|wrong number of fields|ciphertext length|no prefix/i, "bad_ciphertext"],
];

export function classifyItemError(error: string): { code: ItemErrorCode; permanent: boolean } {
  for (const [re, code] of PERMANENT) if (re.test(error)) return { code, permanent: true };
  return { code: "transient", permanent: false };
}
