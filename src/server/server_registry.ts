/**
 * Where running credential servers are found: one Unix socket per server in
 * `${runtimeDir}/servers` (a 0700 directory; sockets 0600), named by a hash of what the server
 * serves. A shell that wants a server connects to the socket and asks; the server answers with
 * its port, pid and bearer token.
 *
 * Why a socket and not a file: the token must not sit on disk in plain text. The kernel lets only
 * this user (and root) into a 0700 directory, which is exactly who could read the token anyway:
 * the same user can read any of their shells' environments (/proc/<pid>/environ), query their
 * unlocked keychain, or run `vaultsh export`. So the socket hands the token to nobody new, writes
 * nothing secret anywhere, needs no keychain item to clean up, and doubles as the liveness check
 * (a dead server's socket refuses connections).
 */
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import type { Settings } from "../settings.ts";
import { ensurePrivateDir } from "../util/atomic_write.ts";
import { ioFailure } from "../util/io_failure.ts";
import { pathExists } from "../util/path_exists.ts";
import { writeAll } from "../util/write_all.ts";

/** What a server tells a shell that finds it. */
export interface ServerInfo {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly token: string;
  readonly profile: string;
  /** The region it serves for, null when none is known. */
  readonly region: string | null;
  /** RFC 3339. */
  readonly startedAt: string;
}

/** What identifies one server: a second shell asking for the same gets the same server. */
export interface ServerKey {
  readonly profile: string;
  /** The effective region (the override or the profile's), if any. */
  readonly region: string | undefined;
  /** The keychain backend it reads. */
  readonly backend: string;
}

/** A published server: close() removes its registry entry. */
export interface Publication {
  close(): Promise<void>;
}

/** Linux's sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
const QUERY_TIMEOUT_MS = 5_000;

export class ServerRegistry {
  readonly dir: string;
  readonly #settings: Settings;

  constructor(settings: Settings) {
    this.#settings = settings;
    this.dir = `${settings.runtimeDir}/servers`;
  }

  /** A short, file-name-safe id; the config file is part of it, as a server reads only one. */
  async idFor(key: ServerKey): Promise<string> {
    const text = JSON.stringify([
      key.profile,
      key.region ?? "",
      key.backend,
      this.#settings.awsConfigFile,
      this.#settings.awsCredentialsFile,
    ]);
    const hash = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
    );
    return Array.from(hash.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  socketPath(id: string): string {
    return `${this.dir}/${id}.sock`;
  }

  /** The background server's log (0600, no secrets). */
  logPath(id: string): string {
    return `${this.dir}/${id}.log`;
  }

  /** The running server with this id, or undefined; a dead server's socket is removed. */
  async lookup(id: string): Promise<ServerInfo | undefined> {
    const reply = await this.#ask(this.socketPath(id), "info");
    if (reply === undefined) return undefined;
    return parseInfo(reply, this.socketPath(id));
  }

  /** Asks the server to stop and waits until its entry is gone; false when none was running. */
  async stop(id: string, timeoutMs = 10_000): Promise<boolean> {
    const path = this.socketPath(id);
    const reply = await this.#ask(path, "stop");
    if (reply === undefined) return false;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!await exists(path)) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new VaultshError("credential server", `it did not stop within ${timeoutMs / 1000} s`);
  }

  /** Every running server, with its registry id. */
  async list(): Promise<Array<ServerInfo & { readonly id: string }>> {
    const servers: Array<ServerInfo & { readonly id: string }> = [];
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      // a directory we may not read may hold running servers: never "none"
      throw new VaultshError("credential server", `cannot read ${this.dir}: ${ioFailure(error)}`);
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const match = /^([0-9a-f]{16})\.sock$/.exec(entry.name);
      if (match === null) continue;
      const id = match[1]!;
      const info = await this.lookup(id);
      if (info !== undefined) servers.push({ ...info, id });
    }
    return servers;
  }

  /**
   * Server side: listens on the id's socket and answers `info` and `stop`. The caller makes sure
   * no live server holds the id (ensureServer's lock, or a lookup first).
   */
  async publish(
    id: string,
    info: ServerInfo,
    handlers: { onQuery: () => void; onStop: () => void },
  ): Promise<Publication> {
    await ensurePrivateDir(this.dir);
    const path = this.socketPath(id);
    checkLength(path);
    await Deno.remove(path).catch(() => {}); // a dead server's leftover (lookup found it dead)
    const listener = Deno.listen({ transport: "unix", path });
    await Deno.chmod(path, 0o600);
    const reply = new TextEncoder().encode(JSON.stringify(info) + "\n");
    const serving = (async () => {
      for await (const conn of listener) {
        answerQuery(conn, reply, handlers).catch((error) =>
          log.debug(`credential server socket: ${error}`)
        );
      }
    })().catch(() => {}); // ends when the listener closes
    let closed = false;
    return {
      async close() {
        if (closed) return;
        closed = true;
        listener.close();
        await serving;
        await Deno.remove(path).catch(() => {});
      },
    };
  }

  /** Sends one command; undefined when nothing listens (and the stale socket is removed). */
  async #ask(path: string, command: "info" | "stop"): Promise<string | undefined> {
    checkLength(path);
    let conn: Deno.UnixConn;
    try {
      conn = await Deno.connect({ transport: "unix", path });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      if (error instanceof Deno.errors.ConnectionRefused) {
        log.debug(`credential server socket ${path}: nobody listens, removing it`);
        await Deno.remove(path).catch(() => {});
        return undefined;
      }
      throw new VaultshError("credential server", `cannot reach ${path}: ${ioFailure(error)}`);
    }
    try {
      await writeAll(conn, new TextEncoder().encode(`${command}\n`));
      const text = await receive(conn, "eof", 65_536, QUERY_TIMEOUT_MS);
      if (text === undefined) {
        throw new VaultshError("credential server", `${path} did not answer in time`);
      }
      return text;
    } finally {
      try {
        conn.close();
      } catch {
        // closed by the timeout already
      }
    }
  }
}

async function answerQuery(
  conn: Deno.Conn,
  reply: Uint8Array,
  handlers: { onQuery: () => void; onStop: () => void },
): Promise<void> {
  try {
    const line = await receive(conn, "newline", 64, 2_000);
    if (line === "info") {
      handlers.onQuery();
      await writeAll(conn, reply);
    } else if (line === "stop") {
      await writeAll(conn, new TextEncoder().encode("{}\n"));
      conn.close();
      handlers.onStop();
      return;
    }
  } finally {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}

function parseInfo(text: string, path: string): ServerInfo {
  try {
    const value = JSON.parse(text) as Partial<ServerInfo>;
    if (
      typeof value.pid === "number" && typeof value.port === "number" &&
      typeof value.url === "string" && typeof value.token === "string" &&
      typeof value.profile === "string" && typeof value.startedAt === "string" &&
      (typeof value.region === "string" || value.region === null)
    ) {
      return value as ServerInfo;
    }
  } catch {
    // reported below
  }
  throw new VaultshError("credential server", `${path} answered something unexpected`);
}

function checkLength(path: string): void {
  if (new TextEncoder().encode(path).length > MAX_SOCKET_PATH) {
    throw new VaultshError("credential server", `the socket path is too long: ${path}`, {
      hint: "set XDG_RUNTIME_DIR to a short directory (it usually is /run/user/<uid>)",
    });
  }
}

async function exists(path: string): Promise<boolean> {
  return await pathExists(path).catch((error) => {
    throw new VaultshError("credential server", `cannot check ${path}: ${ioFailure(error)}`);
  });
}

/**
 * Reads one message: up to EOF, or with "newline" its first line. Undefined when the peer does
 * not finish within `timeoutMs`; "" when it sends more than `maxBytes` (nothing usable).
 */
async function receive(
  conn: Deno.Conn,
  until: "eof" | "newline",
  maxBytes: number,
  timeoutMs: number,
): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buffer = new Uint8Array(4096);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      size += n;
      if (size > maxBytes) return "";
      if (until === "newline" && buffer.subarray(0, n).includes(0x0a)) break;
    }
  } catch {
    return undefined; // closed by the timer
  } finally {
    clearTimeout(timer);
  }
  const text = new TextDecoder().decode(concat(chunks));
  return (until === "newline" ? text.split("\n", 1)[0]! : text).trim();
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
