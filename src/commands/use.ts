/** `vaultsh use <profile>` / `vaultsh use --off`: switch this shell's credentials. */
import { App } from "../app.ts";
import { UsageError } from "../errors.ts";
import { runSync, shellContext } from "../session/run_sync.ts";
import { writeStdout } from "../util/stdout.ts";
import type { CredentialFlags } from "../credentials/credential_flags.ts";

export async function useCommand(
  profile: string | undefined,
  options: CredentialFlags & { off?: true | undefined; server?: true | undefined },
  app?: App,
): Promise<void> {
  if (options.off === true && profile !== undefined) {
    throw new UsageError("use", "give a profile or --off, not both");
  }
  if (options.off === true && options.server === true) {
    throw new UsageError("use", "--server needs a profile, not --off");
  }
  if (options.off !== true && profile === undefined) {
    throw new UsageError("use", "missing profile", "vaultsh use <profile>, or vaultsh use --off");
  }
  app ??= App.fromEnv(options);
  const context = shellContext(app, "use");
  const code = await runSync(
    app,
    context,
    options,
    (sync) =>
      profile === undefined
        ? sync.off(context.marker)
        : sync.use(profile, context.marker, { region: options.region, server: options.server }),
  );
  writeStdout(code);
}
