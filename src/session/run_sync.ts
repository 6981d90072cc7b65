/**
 * Wires ShellSync to the real world for `vaultsh use` and the hooks: credentials from the
 * engine, markers from disk and the trust store, output as shell code for the calling shell.
 */
import type { App } from "../app.ts";
import { credentialEnv } from "../credentials/credential_env.ts";
import { resolveCredentials } from "../credentials/resolve_credentials.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { loadMarker, showPath } from "../marker/marker.ts";
import { TrustStore } from "../marker/trust_store.ts";
import { getShell, renderEnvChange, type Shell } from "../shells/shell.ts";
import { hasTerminal } from "../tty.ts";
import type { CredentialFlags } from "../credentials/credential_flags.ts";
import { EnvStash } from "./env_stash.ts";
import { ShellSync } from "./shell_sync.ts";
import type { MarkerVerdict, SyncResult } from "./sync_types.ts";
import { decodeState, encodeState } from "./shell_state.ts";
import { switchLine } from "./switch_line.ts";

/** What the shell function and hooks pass in the environment (never secrets). */
export interface ShellContext {
  readonly shell: Shell;
  /** `__VAULTSH_MARKER`: the marker the shell found ("" none). */
  readonly marker: string;
}

/** Reads the calling shell's context; a usage error when vaultsh was not called by its function. */
export function shellContext(app: App, command: string): ShellContext {
  const name = app.settings.env.__VAULTSH_SHELL;
  if (name === undefined || name === "") {
    throw new VaultshError(
      command,
      "this changes the current shell, so it runs through the shell integration",
      {
        exitCode: 2,
        hint:
          `add eval "$(vaultsh init zsh)" (or bash; fish: vaultsh init fish | source) to your shell's rc file, or use 'vaultsh exec'`,
      },
    );
  }
  return { shell: getShell(name), marker: app.settings.env.__VAULTSH_MARKER ?? "" };
}

/** Builds a ShellSync for this shell, runs `action`, and returns the shell code to evaluate. */
export async function runSync(
  app: App,
  context: ShellContext,
  flags: CredentialFlags,
  action: (sync: ShellSync) => Promise<void>,
): Promise<string> {
  const env = app.settings.env;
  const trust = new TrustStore(`${app.settings.dataDir}/trust`);
  const now = () => Math.floor(Date.now() / 1000);
  const sync = new ShellSync(decodeState(env.__VAULTSH_STATE), env.__VAULTSH_SCOPE ?? "", {
    env,
    interactive: await hasTerminal(),
    now,
    minTtl: app.settings.minTtl,
    async credentials(profile, request) {
      // renewals at the prompt are silent; entering a marker says what it waits for
      log.setQuiet(!request.interactive);
      try {
        if (request.server === true) {
          // served: the shell gets the local server's address and token, never the keys
          const { ensureServer } = await import("../server/ensure_server.ts");
          const { serverEnv } = await import("../server/server_env.ts");
          const handle = await ensureServer(app, profile, request.region ?? flags.region, {
            interactive: request.interactive,
            mfaToken: flags.mfaToken,
          });
          return { env: serverEnv(handle), expires: handle.expires, watch: handle.watch };
        }
        const resolved = await resolveCredentials(app, {
          ...flags,
          profile,
          region: request.region ?? flags.region,
          interactive: request.interactive,
          background: !request.interactive,
        });
        const expiration = resolved.credentials.expiration;
        return {
          env: credentialEnv(resolved),
          expires: expiration === undefined ? undefined : Math.floor(expiration.getTime() / 1000),
        };
      } finally {
        log.setQuiet(false);
      }
    },
    async exists(path) {
      try {
        await Deno.stat(path);
        return true;
      } catch {
        return false;
      }
    },
    marker: (path) => evaluateMarker(path, trust),
    stash: new EnvStashLazy(app, now),
    notice: (message) => log.warn(message),
    announce(change) {
      if (!app.settings.quiet) log.info(switchLine(change, now()));
    },
    failure: (error) => {
      if (error instanceof VaultshError) log.error(`${error.what}: ${error.why}`, error.hint);
      else log.error(String(error));
    },
  });
  await action(sync);
  return render(context.shell, sync.result(), now());
}

async function evaluateMarker(path: string, trust: TrustStore): Promise<MarkerVerdict> {
  let loaded;
  try {
    loaded = await loadMarker(path);
  } catch (error) {
    if (error instanceof VaultshError) return { kind: "broken", error };
    throw error;
  }
  const { marker, content } = loaded;
  const state = await trust.status(path, content);
  if (state === "denied") return { kind: "denied" };
  if (state === "untrusted") {
    return {
      kind: "untrusted",
      notice: `${
        showPath(path)
      } wants profile "${marker.profile}"; run 'vaultsh allow' to trust it`,
    };
  }
  return { kind: "trusted", profile: marker.profile, region: marker.region, server: marker.server };
}

/** The stash opens the keychain only if a marker displaces hand-exported credentials. */
class EnvStashLazy {
  #stash: EnvStash | undefined;
  constructor(private readonly app: App, private readonly now: () => number) {}
  async #get(): Promise<EnvStash> {
    return this.#stash ??= new EnvStash(await this.app.keychain(), this.now);
  }
  async put(values: Readonly<Record<string, string>>): Promise<string> {
    return (await this.#get()).put(values);
  }
  async take(id: string): Promise<Record<string, string> | null> {
    return (await this.#get()).take(id);
  }
}

function render(shell: Shell, result: SyncResult, now: number): string {
  let code = renderEnvChange(shell, result.env);
  code += shell.setShellVar("__vaultsh_state", encodeState(result.state));
  code += shell.setShellVar("__vaultsh_scope", result.scope);
  code += result.watch === undefined
    ? shell.unsetVar("__vaultsh_watch")
    : shell.setShellVar("__vaultsh_watch", result.watch);
  if (result.refreshAt === undefined) {
    code += shell.unsetVar("__vaultsh_refresh_at");
    if (shell.name === "fish") code += shell.unsetVar("__vaultsh_refresh_up");
  } else {
    code += shell.setShellVar("__vaultsh_refresh_at", String(result.refreshAt));
    if (shell.name === "fish") {
      // fish has no clock without a process; /proc/uptime it can read with a builtin
      const uptime = readUptime();
      if (uptime === undefined) code += shell.unsetVar("__vaultsh_refresh_up");
      else {code += shell.setShellVar(
          "__vaultsh_refresh_up",
          String(Math.floor(uptime + result.refreshAt - now)),
        );}
    }
  }
  return code;
}

function readUptime(): number | undefined {
  try {
    const seconds = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
    return Number.isFinite(seconds) ? seconds : undefined;
  } catch {
    return undefined;
  }
}
