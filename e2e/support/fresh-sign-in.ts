/**
 * The fresh-sign-in window (FRESH_SIGN_IN_MAX_AGE_SECONDS) of the console under test: short, so
 * e2e/fresh-sign-in.spec.ts can outlive it, long enough for specs that sign in and act at once
 * (e2e/server-action-origin.spec.ts revokes a session seconds after its admin signed in).
 */
export const E2E_FRESH_SIGN_IN_MAX_AGE_SECONDS = Number(process.env.E2E_FRESH_SIGN_IN_MAX_AGE_SECONDS ?? 30);
