import "server-only";

export { withAudit, recordAuditEvent, appendAuditEvent, auditEventSchema, auditActorSchema } from "./writer";
export type { AuditActor, AuditEventInput, AuditScope, AppendedAuditEvent, WithAuditOptions } from "./writer";
export { verifyAuditChain } from "./verify";
export type { AuditChainReport, AuditChainBreak } from "./verify";
export { redactDetails, REDACTED } from "./redact";
export { canonicalJson, computeAuditHash } from "./hash";
