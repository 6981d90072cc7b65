/**
 * One credential server per user, profile and region, shared by every shell: `ensureServer`
 * finds the running one through the registry, or starts `vaultsh server --background` detached
 * (its own session, no terminal, stdio away from the caller's `$(...)`) and waits until it
 * answers. The credentials are resolved here first, in the caller, where a terminal may exist:
 * the MFA code is asked for now, and the server later renews from the keychain cache.
 */
import type { App } from "../app.ts";
import type { CredentialFlags } from "../credentials/credential_flags.ts";
import { selfPath } from "../commands/init.ts";
import { resolveCredentials } from "../credentials/resolve_credentials.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { hasTerminal } from "../tty.ts";
import { withFileLock } from "../util/file_lock.ts";
import { type ServerInfo, ServerRegistry } from "./server_registry.ts";

/** A running server, as the shell integration needs it. */
export interface ServerHandle {
  /** AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  readonly url: string;
  /** AWS_CONTAINER_AUTHORIZATION_TOKEN. */
  readonly token: string;
  readonly profile: string;
  /** The effective region (exported as AWS_REGION/AWS_DEFAULT_REGION), if any. */
  readonly region: string | undefined;
  readonly pid: number;
  /**
   * Unix seconds when the credentials behind the server expire: the hook should call
   * ensureServer again around then (it renews the cache, or says an MFA code is needed, and
   * restarts a server that exited).
   */
  readonly expires: number | undefined;
  /**
   * A path that exists while the server runs, for the prompt hook to test without a process:
   * `/proc/<pid>/exe` where there is a /proc (it vanishes when the process ends, before anyone
   * reaps it), else the registry socket (removed on a clean exit).
   */
  readonly watch: string;
}

export interface EnsureOptions extends Pick<CredentialFlags, "mfaToken"> {
  /** May prompt for an MFA code (default: when a terminal exists). */
  readonly interactive?: boolean | undefined;
}

/** How long a starting server may take to answer (a loaded machine starts Deno slowly). */
const START_TIMEOUT_MS = 30_000;

/** Variables the server process does not need and should not carry around for hours. */
const DROPPED_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_VAULT",
  "VAULTSH_PROFILE",
];

export async function ensureServer(
  app: App,
  profile: string,
  region: string | undefined,
  options: EnsureOptions = {},
): Promise<ServerHandle> {
  const interactive = options.interactive ?? await hasTerminal();
  const resolved = await resolveCredentials(app, {
    profile,
    region,
    mfaToken: options.mfaToken,
    interactive,
  });
  const effectiveRegion = resolved.region;
  const backend = (await app.keychain()).backend;
  const registry = new ServerRegistry(app.settings);
  const id = await registry.idFor({ profile, region: effectiveRegion, backend });

  let info = await registry.lookup(id);
  if (info === undefined) {
    // two shells starting the same server at once: the second waits and finds the first's
    info = await withFileLock(
      `${app.settings.runtimeDir}/locks`,
      `server:${id}`,
      START_TIMEOUT_MS * 2,
      `credential server for "${profile}"`,
      async () => {
        const running = await registry.lookup(id);
        if (running !== undefined) return running;
        await startBackground(app, registry, id, { profile, region: effectiveRegion, backend });
        const started = await registry.lookup(id);
        if (started === undefined) {
          throw new VaultshError(
            `credential server for "${profile}"`,
            "it started but cannot be found",
            { hint: `see ${registry.logPath(id)}` },
          );
        }
        return started;
      },
    );
  } else {
    log.debug(`credential server for ${profile}: reusing pid ${info.pid} on port ${info.port}`);
  }
  checkIdentity(info, profile);
  const expiration = resolved.credentials.expiration;
  return {
    url: info.url,
    token: info.token,
    profile,
    region: effectiveRegion,
    pid: info.pid,
    expires: expiration === undefined ? undefined : Math.floor(expiration.getTime() / 1000),
    watch: hasProc() ? `/proc/${info.pid}/exe` : registry.socketPath(id),
  };
}

function hasProc(): boolean {
  try {
    return Deno.statSync(`/proc/${Deno.pid}/exe`).isFile;
  } catch {
    return false;
  }
}

/** Starts `vaultsh server --background` detached and waits for its "ready" line. */
async function startBackground(
  app: App,
  registry: ServerRegistry,
  id: string,
  key: { profile: string; region: string | undefined; backend: string },
): Promise<void> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(app.settings.env)) {
    if (value !== undefined && !DROPPED_VARIABLES.includes(name) && !name.startsWith("__VAULTSH")) {
      env[name] = value;
    }
  }
  const args = ["server", "--background", "--backend", key.backend];
  if (key.region !== undefined) args.push("--region", key.region);
  args.push("--", key.profile);
  const started = performance.now();
  log.debug(`credential server for ${key.profile}: starting in the background`);
  let executable: string;
  try {
    executable = selfPath();
  } catch (error) {
    if (!(error instanceof VaultshError)) throw error;
    throw new VaultshError(`credential server for "${key.profile}"`, error.why, {
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(executable, {
      args,
      env,
      clearEnv: true,
      cwd: "/",
      stdin: "null",
      // a pipe of our own: the caller's stdout may be a shell's `$(...)`, which would wait for
      // the server to exit if the server held it
      stdout: "piped",
      stderr: "null",
      detached: true,
    }).spawn();
  } catch (error) {
    throw new VaultshError(`credential server for "${key.profile}"`, `cannot start it: ${error}`);
  }
  const ready = await readReady(child.stdout, START_TIMEOUT_MS);
  child.unref();
  if (!ready) {
    // it may still be starting on a very slow machine, or it failed: either way, not ours now
    throw new VaultshError(
      `credential server for "${key.profile}"`,
      "it did not start",
      { hint: `see ${registry.logPath(id)}` },
    );
  }
  log.debug(
    `credential server for ${key.profile}: ready after ${
      Math.round(performance.now() - started)
    } ms`,
  );
}

/** True once the child printed "ready"; false on EOF (it exited) or timeout. */
async function readReady(stream: ReadableStream<Uint8Array>, timeoutMs: number): Promise<boolean> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    while (true) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === "timeout" || chunk.done) return false;
      text += decoder.decode(chunk.value, { stream: true });
      if (text.includes("ready\n")) return true;
    }
  } finally {
    clearTimeout(timer);
    // the server never writes to this pipe again; closing our end lets it go its way
    await reader.cancel().catch(() => {});
  }
}

function checkIdentity(info: ServerInfo, profile: string): void {
  if (info.profile !== profile) {
    throw new VaultshError(
      `credential server for "${profile}"`,
      `the registry entry belongs to profile "${info.profile}"`,
      { hint: `stop it with: vaultsh server --stop ${info.profile}` },
    );
  }
}
