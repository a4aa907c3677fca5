// The full schema: every table the console's database holds. drizzle-kit reads the files in this folder;
// the client types `Db` with this module.
export * from "./key-shares";
export * from "./wallet-properties";
export * from "./audit";
export * from "./auth";
export * from "./census";
export * from "./inventory";
export * from "./campaigns";
