/**
 * `vaultsh use [profile]` / `vaultsh use --off`: switch this shell's credentials. Without a
 * profile, on a terminal, a picker lists the config's profiles.
 */
import { App } from "../app.ts";
import { UsageError, VaultshError } from "../errors.ts";
import { pickOnTerminal } from "../picker/pick_on_terminal.ts";
import { runSync, shellContext } from "../session/run_sync.ts";
import { openTerminal } from "../tty.ts";
import { writeStdout } from "../util/stdout.ts";
import type { CredentialFlags } from "../credentials/credential_flags.ts";

export async function useCommand(
  profile: string | undefined,
  options: CredentialFlags & { off?: true | undefined; server?: true | undefined },
): Promise<void> {
  if (options.off === true && profile !== undefined) {
    throw new UsageError("use", "give a profile or --off, not both");
  }
  if (options.off === true && options.server === true) {
    throw new UsageError("use", "--server needs a profile, not --off");
  }
  const tty = options.off !== true && profile === undefined ? await openTerminal() : null;
  try {
    if (options.off !== true && profile === undefined && tty === null) {
      throw new UsageError(
        "use",
        "missing profile (no terminal for the picker)",
        "vaultsh use <profile>, or vaultsh use --off",
      );
    }
    const app = App.fromEnv(options);
    const context = shellContext(app, "use");
    if (tty !== null) profile = await pick(app, tty);
    const chosen = profile;
    const code = await runSync(
      app,
      context,
      options,
      (sync) =>
        chosen === undefined
          ? sync.off(context.marker)
          : sync.use(chosen, context.marker, { region: options.region, server: options.server }),
    );
    writeStdout(code);
  } finally {
    tty?.close();
  }
}

async function pick(app: App, tty: Deno.FsFile): Promise<string> {
  const config = await app.config();
  const names = config.profileNames();
  if (names.length === 0) {
    throw new VaultshError("use", `no profiles in ${config.configFile}`, {
      hint: "add one with: vaultsh add <profile>",
    });
  }
  return await pickOnTerminal(tty, names, "vaultsh: use which profile? (type to filter)");
}
