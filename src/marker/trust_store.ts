/**
 * Which `.awsvault` markers the user trusts (design.md#trust), direnv's model:
 * - allowing records `allow-<sha256(location + "\n")>-<sha256(location + "\n" + content)>`,
 *   where the location is the real path of the marker's directory plus its own name (see
 *   markerLocation), so editing the marker, moving, copying or symlinking it elsewhere leaves it
 *   untrusted there; the path hash in front lets `deny` find every allow of a path without
 *   reading them;
 * - denying records `deny-<sha256(location + "\n")>`, by path only, so the refusal survives
 *   edits and the notice is not repeated;
 * - a deny wins over any allow; `allow` clears the deny, `deny` clears the path's allows.
 *
 * One small JSON file per record (`{"path", "at"}`, read only by `list`), 0600 in a 0700
 * directory, each written atomically: two shells deciding at once cannot lose each other's
 * records, and a failed write leaves the store as it was. `status` is on the hook's path (every
 * `cd` into a marker tree): a realpath, one read of the marker (none when the caller passes the
 * bytes it parsed), two small hashes and two stats.
 */
import { errorMessage, VaultshError } from "../errors.ts";
import { atomicWrite, ensurePrivateDir } from "../util/atomic_write.ts";
import { pathExists } from "../util/path_exists.ts";
import { MAX_MARKER_BYTES, readMarkerFile, showPath } from "./marker.ts";

export type TrustState = "allowed" | "denied" | "untrusted";

/** One record of the store, for `doctor`. */
export interface TrustRecord {
  /** The marker's location (its directory's real path and its name) when the decision was made. */
  readonly path: string;
  readonly decision: "allow" | "deny";
  /**
   * `allowed`: allows the marker's current content; `outdated`: allowed an earlier content;
   * `denied`; `missing`: the marker is gone; `unreadable`: the marker exists but cannot be read.
   */
  readonly state: "allowed" | "outdated" | "denied" | "missing" | "unreadable";
}

const RECORD_NAME = /^(allow|deny)-([0-9a-f]{64})(?:-([0-9a-f]{64}))?$/;
const encoder = new TextEncoder();

export class TrustStore {
  /** `dir` is `${dataDir}/trust`; it is created (0700) on the first decision. */
  constructor(readonly dir: string) {}

  /**
   * Whether the marker at `markerPath` takes effect. Pass `content` when the marker was already
   * read, so the bytes checked are the bytes parsed.
   */
  async status(markerPath: string, content?: Uint8Array): Promise<TrustState> {
    const keys = await this.#keys(markerPath, content);
    let denied: boolean, allowed: boolean;
    try {
      [denied, allowed] = await Promise.all([
        pathExists(`${this.dir}/${denyName(keys)}`),
        pathExists(`${this.dir}/${allowName(keys)}`),
      ]);
    } catch (error) {
      throw new VaultshError(`trust store ${showPath(this.dir)}`, errorMessage(error), {
        cause: error,
      });
    }
    return denied ? "denied" : allowed ? "allowed" : "untrusted";
  }

  /** Trusts the marker's current content (or `content`, the bytes the caller parsed). */
  async allow(markerPath: string, content?: Uint8Array): Promise<void> {
    const keys = await this.#keys(markerPath, content);
    const allowPath = `${this.dir}/${allowName(keys)}`;
    let created = false;
    try {
      await ensurePrivateDir(this.dir);
      if (!await pathExists(allowPath)) {
        await atomicWrite(allowPath, record(keys.path), { mode: 0o600 });
        created = true;
      }
      await removeIfPresent(`${this.dir}/${denyName(keys)}`);
    } catch (error) {
      // the deny still stands if it could not be removed: take back the allow too
      if (created) await Deno.remove(allowPath).catch(() => {});
      throw this.#writeError("allow", keys.path, error);
    }
  }

  /** Refuses the marker at this path, whatever its content now or later. */
  async deny(markerPath: string): Promise<void> {
    const path = await markerLocation(markerPath);
    const keys = { path, pathHash: await sha256(encoder.encode(`${path}\n`)), contentHash: "" };
    try {
      await ensurePrivateDir(this.dir);
      await atomicWrite(`${this.dir}/${denyName(keys)}`, record(path), { mode: 0o600 });
    } catch (error) {
      throw this.#writeError("deny", path, error);
    }
    // the deny is in force now (it wins over any allow): only leftovers can fail below
    try {
      for (const name of await recordNames(this.dir)) {
        if (name.startsWith(`allow-${keys.pathHash}-`)) {
          await removeIfPresent(`${this.dir}/${name}`);
        }
      }
    } catch (error) {
      throw this.#writeError("deny", path, error, "it is denied, but its earlier allows remain");
    }
  }

  /** Every record with its state now; unreadable record files are left out. */
  async list(): Promise<TrustRecord[]> {
    return (await this.#records()).map(({ path, decision, state }) => ({ path, decision, state }));
  }

  /** Removes the records of markers that no longer exist; returns what it removed. */
  async prune(): Promise<TrustRecord[]> {
    const removed: TrustRecord[] = [];
    for (const { name, path, decision, state } of await this.#records()) {
      if (state !== "missing") continue;
      try {
        await removeIfPresent(`${this.dir}/${name}`);
      } catch (error) {
        throw this.#writeError("prune", path, error);
      }
      removed.push({ path, decision, state });
    }
    return removed;
  }

  async #records(): Promise<(TrustRecord & { name: string })[]> {
    let names: string[];
    try {
      names = await recordNames(this.dir);
    } catch (error) {
      throw new VaultshError(`trust store ${showPath(this.dir)}`, errorMessage(error), {
        cause: error,
      });
    }
    const records: (TrustRecord & { name: string })[] = [];
    for (const name of names.sort()) {
      const match = RECORD_NAME.exec(name);
      const path = match === null ? undefined : await recordPath(`${this.dir}/${name}`);
      // a record whose path does not hash to its name is not one vaultsh wrote
      if (match === null || path === undefined) continue;
      if (match[2] !== await sha256(encoder.encode(`${path}\n`))) continue;
      const decision = match[1] === "allow" ? "allow" : "deny";
      records.push({ name, path, decision, state: await recordState(path, match[3]) });
    }
    return records;
  }

  async #keys(markerPath: string, content: Uint8Array | undefined): Promise<Keys> {
    const [path, bytes] = await Promise.all([
      markerLocation(markerPath),
      content ?? readMarkerFile(markerPath),
    ]);
    const prefix = encoder.encode(`${path}\n`);
    const [pathHash, contentHash] = await Promise.all([
      sha256(prefix),
      sha256(concat(prefix, bytes)),
    ]);
    return { path, pathHash, contentHash };
  }

  #writeError(action: string, path: string, error: unknown, outcome?: string): VaultshError {
    // Deno appends the operation and the (temporary) file's path: the OS reason is the news
    const reason = errorMessage(error).replace(/(\(os error \d+\)):.*$/, "$1");
    const why = `cannot ${action} ${showPath(path)}: ${reason}`;
    return new VaultshError(
      `trust store ${showPath(this.dir)}`,
      outcome === undefined ? why : `${why} (${outcome})`,
      {
        hint: "check that the directory is writable and the disk is not full, then try again",
        cause: error,
      },
    );
  }
}

interface Keys {
  readonly path: string;
  readonly pathHash: string;
  readonly contentHash: string;
}

function allowName(keys: Keys): string {
  return `allow-${keys.pathHash}-${keys.contentHash}`;
}

function denyName(keys: Keys): string {
  return `deny-${keys.pathHash}`;
}

function record(path: string): string {
  return `${JSON.stringify({ path, at: new Date().toISOString() })}\n`;
}

/**
 * Where a marker is: the real path of its directory plus its own name. The marker itself is not
 * resolved, so `.awsvault -> ../billing/.awsvault` is a marker of its own, untrusted until it is
 * allowed there, and never inherits billing's trust.
 */
export async function markerLocation(markerPath: string): Promise<string> {
  const slash = markerPath.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : markerPath.slice(0, slash);
  const name = markerPath.slice(slash + 1);
  try {
    // the marker must exist (a dangling link is none); its directory is what gets resolved
    await Deno.stat(markerPath);
    const realDir = await Deno.realPath(dir);
    return `${realDir === "/" ? "" : realDir}/${name}`;
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "not found" : errorMessage(error);
    throw new VaultshError(`marker ${showPath(markerPath)}`, why, { cause: error });
  }
}

/** The record files in `dir` (none when it does not exist yet); temporary files start with `.`. */
async function recordNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && !entry.name.startsWith(".")) names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names;
}

async function recordPath(file: string): Promise<string | undefined> {
  try {
    const data: unknown = JSON.parse(await Deno.readTextFile(file));
    if (typeof data === "object" && data !== null && "path" in data) {
      return typeof data.path === "string" ? data.path : undefined;
    }
  } catch {
    // unreadable or not JSON: not a record
  }
  return undefined;
}

async function recordState(
  path: string,
  contentHash: string | undefined,
): Promise<TrustRecord["state"]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return "missing";
    }
    return contentHash === undefined ? "denied" : "unreadable";
  }
  // findMarker skips anything but a regular file: no marker there
  if (!info.isFile) return "missing";
  if (contentHash === undefined) return "denied";
  if (info.size > MAX_MARKER_BYTES) return "outdated";
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readMarkerFile(path);
  } catch {
    return "unreadable";
  }
  const current = await sha256(concat(encoder.encode(`${path}\n`), bytes));
  return current === contentHash ? "allowed" : "outdated";
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
