/**
 * Domain errors carry a message that is safe to show a user. Anything that is not one of these is
 * unexpected: it is logged under an id and the user sees a generic message (never a driver or Vault text).
 * No server-only marker: client code may test `instanceof` on nothing here, but the classes hold no secrets.
 */
export class DomainError extends Error {
  override name = "DomainError";
  readonly status: number = 500;
  constructor(message: string) {
    super(message);
  }
}

export class ValidationError extends DomainError {
  override name = "ValidationError";
  override readonly status = 400;
}
export class UnauthorizedError extends DomainError {
  override name = "UnauthorizedError";
  override readonly status = 401;
  constructor(message = "Sign in to continue.") {
    super(message);
  }
}
/** The action needs a recent IdP sign-in (DESIGN §4) and the session's is older or unknown. */
export class FreshSignInRequiredError extends DomainError {
  override name = "FreshSignInRequiredError";
  override readonly status = 401;
  constructor(message = "Confirm it is you: sign in again to continue.") {
    super(message);
  }
}
export class ForbiddenError extends DomainError {
  override name = "ForbiddenError";
  override readonly status = 403;
  constructor(message = "Your role does not allow this.") {
    super(message);
  }
}
export class NotFoundError extends DomainError {
  override name = "NotFoundError";
  override readonly status = 404;
}
export class ConflictError extends DomainError {
  override name = "ConflictError";
  override readonly status = 409;
}
export class ServiceUnavailableError extends DomainError {
  override name = "ServiceUnavailableError";
  override readonly status = 503;
}

export function toPublicError(err: unknown): { status: number; message: string } {
  if (err instanceof DomainError) return { status: err.status, message: err.message };
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === "number" && status === 503) return { status: 503, message: "A backing service is unavailable. Try again shortly." };
  return { status: 500, message: "Something went wrong. The error has been logged." };
}
