/**
 * `vaultsh server <profile>`: the local credential server (design.md#credential-server).
 *
 *   vaultsh server account_b            serve in the foreground; prints the variables, Ctrl-C stops
 *   vaultsh server --detach account_b   start (or reuse) the shared background server, print them
 *   vaultsh server --stop account_b     stop the profile's servers
 *   vaultsh server --list               the running servers
 */
import { App } from "../app.ts";
import { UsageError } from "../errors.ts";
import * as log from "../log.ts";
import { ensureServer } from "../server/ensure_server.ts";
import { serveProfile } from "../server/serve_profile.ts";
import { serverEnv } from "../server/server_env.ts";
import { ServerRegistry } from "../server/server_registry.ts";
import { writeStdout } from "../util/stdout.ts";
import { renderTable } from "../util/table.ts";
import type { CredentialFlags } from "../credentials/credential_flags.ts";

/** The credential flags it shares with `use` and `exec`, and its own modes. */
export interface ServerCommandOptions
  extends Pick<CredentialFlags, "backend" | "region" | "mfaToken"> {
  /** Seconds without requests before exiting (0: never). */
  readonly idle?: number | undefined;
  readonly detach?: true | undefined;
  readonly stop?: true | undefined;
  readonly list?: true | undefined;
  /** Internal: the detached child ensureServer starts. */
  readonly background?: true | undefined;
}

/** What `server stop`, `server list`, `server detach` were probably meant as. */
const MODE_WORDS: Readonly<Record<string, string>> = {
  stop: "to stop servers: vaultsh server --stop <profile>",
  list: "to list servers: vaultsh server --list",
  detach: "to start one in the background: vaultsh server --detach <profile>",
};

export async function serverCommand(
  profile: string | undefined,
  options: ServerCommandOptions,
): Promise<void> {
  const modes = [options.detach, options.stop, options.list, options.background]
    .filter((flag) => flag === true).length;
  if (modes > 1) {
    throw new UsageError("server", "--detach, --stop and --list exclude each other");
  }
  const app = App.fromEnv(options);
  const registry = new ServerRegistry(app.settings);

  if (options.list === true) {
    const servers = await registry.list();
    writeStdout(renderTable(
      ["PROFILE", "REGION", "URL", "PID", "STARTED"],
      servers.map((s) => [s.profile, s.region ?? "-", s.url, String(s.pid), s.startedAt]),
    ));
    return;
  }
  if (profile === undefined) {
    throw options.stop === true
      ? new UsageError(
        "server",
        "--stop needs the profile whose servers to stop",
        "vaultsh server --stop <profile> (vaultsh server --list shows the running servers)",
      )
      : new UsageError("server", "missing profile", "vaultsh server <profile>");
  }
  const mode = MODE_WORDS[profile];
  if (mode !== undefined && !(await app.config()).hasProfile(profile)) {
    // `vaultsh server stop`: a mode typed without its dashes
    throw new UsageError("server", `"${profile}" is not a profile`, mode);
  }

  if (options.stop === true) {
    const matching = (await registry.list()).filter((s) =>
      s.profile === profile && (options.region === undefined || s.region === options.region)
    );
    for (const server of matching) {
      await registry.stop(server.id);
      log.info(`stopped the credential server for ${profile} (pid ${server.pid})`);
    }
    if (matching.length === 0) log.info(`no credential server runs for ${profile}`);
    return;
  }

  if (options.detach === true) {
    const handle = await ensureServer(app, profile, options.region, {
      mfaToken: options.mfaToken,
    });
    const lines = Object.entries(serverEnv(handle))
      .filter(([, value]) => value !== null)
      .map(([name, value]) => `${name}=${value}\n`);
    writeStdout(lines.join(""));
    return;
  }

  await serveProfile(app, {
    profile,
    region: options.region,
    background: options.background === true,
    idleSeconds: options.idle,
    mfaToken: options.mfaToken,
  });
}
