import "server-only";

export { withAudit, recordAuditEvent, appendAuditEvent, auditEventSchema, auditActorSchema } from "./writer";
export type { AuditActor, AuditEventInput, AuditScope, AppendedAuditEvent, WithAuditOptions } from "./writer";
export { verifyAuditChain } from "./verify";
export type { AuditChainReport, AuditChainBreak } from "./verify";
export { redactDetails, REDACTED } from "./redact";
export { canonicalJson, computeAuditHash } from "./hash";
export { verifyAuditTrail, verificationAuditEvent, VERIFY_ACTION } from "./trail";
export type { AuditVerificationResult, AuditDamage, AuditDamageKind, VerifyAuditTrailOptions } from "./trail";
export { createCheckpoint, runCheckpoints, auditCheckpointJob, checkpointSettingsOf, CHECKPOINT_ACTION } from "./checkpoint";
export type { CheckpointSettings, CheckpointOutcome } from "./checkpoint";
