/**
 * Optional on-disk persistence of all mounts and keys.
 *
 * DEVELOPMENT AND TESTS ONLY: the file holds raw key material in plain JSON. It is written 0600 inside a
 * 0700 directory, atomically (temp file + rename) so a crash mid-write never leaves a truncated key file,
 * but nothing here is a substitute for a real KMS.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, chmodSync, openSync, fsyncSync, closeSync } from "node:fs";
import path from "node:path";
import { TransitMount } from "./backend.js";
import { TransitKey, type StoredKey } from "./keyring.js";

export const STATE_FILE = "transit-state.json";

interface StoredMount {
  path: string;
  uuid: string;
  accessor: string;
  description: string;
  disable_upsert: boolean;
  keys: StoredKey[];
}

interface StoredState {
  format: 1;
  /** Warning for anyone who opens the file. */
  note: string;
  mounts: StoredMount[];
}

export class StateStore {
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = path.join(dir, STATE_FILE);
  }

  /** Returns the stored mounts, or undefined when nothing was saved yet. Corrupt state fails loudly. */
  load(): Map<string, TransitMount> | undefined {
    if (!existsSync(this.file)) return undefined;
    const state = JSON.parse(readFileSync(this.file, "utf8")) as StoredState;
    if (state.format !== 1 || !Array.isArray(state.mounts)) throw new Error(`unrecognised transit state file ${this.file}`);
    const mounts = new Map<string, TransitMount>();
    for (const sm of state.mounts) {
      const m = new TransitMount({ path: sm.path, uuid: sm.uuid, accessor: sm.accessor, description: sm.description });
      m.disableUpsert = sm.disable_upsert;
      for (const sk of sm.keys) m.keys.set(sk.name, TransitKey.fromStored(sk));
      mounts.set(sm.path, m);
    }
    return mounts;
  }

  save(mounts: Map<string, TransitMount>): void {
    const state: StoredState = {
      format: 1,
      note: "Dev transit server state: contains raw key material. For development and tests only.",
      mounts: [...mounts.values()].map((m) => ({
        ...m.info,
        disable_upsert: m.disableUpsert,
        keys: [...m.keys.values()].map((k) => k.toStored()),
      })),
    };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    // writeFileSync's mode only applies when the file is created; a leftover temp file keeps its old mode.
    chmodSync(tmp, 0o600);
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
