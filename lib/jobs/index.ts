import "server-only";

export { defineJob, lockIdOf } from "./define";
export type { Job, IntervalJob, LoopJob, JobContext } from "./define";
export { describeError } from "./describe-error";
export { postgresAdvisoryLock, sessionAdvisoryLock, LockLostError } from "./lock";
export type { AdvisoryLock } from "./lock";
export { startJobs } from "./runner";
export type { JobsHandle, JobStatus, LockBackend, StartJobsOptions, StopResult } from "./runner";
export { JOBS, resolveJobs, UnknownJobError } from "./registry";
export type { RegisteredJob, ResolvedJobs } from "./registry";
export { startProcessJobs, processJobs, stopProcessJobs, stopJobsOnSignals } from "./process";
