/** `vaultsh exec <profile> [-- cmd args...]`: run a command with the profile's credentials. */
import { App } from "../app.ts";
import { credentialEnv } from "../credentials/credential_env.ts";
import { EXEC_VARIABLE, refuseNesting } from "../credentials/nested_guard.ts";
import { resolveCredentials } from "../credentials/resolve_credentials.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { childEnv } from "../util/child_env.ts";
import type { CredentialFlags } from "../credentials/credential_flags.ts";

/** Signals a parent forwards. SIGINT/SIGQUIT from the terminal reach the child directly (same
 * process group); forwarding them too would deliver every Ctrl-C twice. */
const FORWARDED: Deno.Signal[] = ["SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"];

export async function execCommand(
  profile: string,
  command: string[],
  flags: CredentialFlags,
): Promise<number> {
  const app = App.fromEnv(flags);
  const env = app.settings.env;
  refuseNesting(profile, env);
  const resolved = await resolveCredentials(app, { ...flags, profile, interactive: true });

  const childEnvironment = childEnv(env);
  for (const [key, value] of Object.entries(credentialEnv(resolved))) {
    if (value === null) delete childEnvironment[key];
    else childEnvironment[key] = value;
  }
  // so a vaultsh exec inside this command knows it is nested
  childEnvironment[EXEC_VARIABLE] = profile;

  const argv = command.length > 0 ? command : [env.SHELL || "/bin/sh"];
  if (command.length === 0) {
    log.info(`starting ${argv[0]} with ${profile}'s credentials; exit to return`);
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      env: childEnvironment,
      clearEnv: true,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "command not found" : String(error);
    throw new VaultshError(`exec ${argv[0]}`, why, { exitCode: 127 });
  }
  const forward = FORWARDED.map((signal) => {
    const handler = () => {
      try {
        child.kill(signal);
      } catch {
        // the child is gone already
      }
    };
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  });
  // the terminal's Ctrl-C goes to the child; vaultsh waits for it to decide
  const ignoreInt = () => {};
  Deno.addSignalListener("SIGINT", ignoreInt);
  const status = await child.status;
  for (const remove of forward) remove();
  Deno.removeSignalListener("SIGINT", ignoreInt);

  if (status.signal !== null) {
    // die the same way, so the caller's shell sees the real cause
    try {
      Deno.kill(Deno.pid, status.signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } catch {
      // not deliverable to ourselves: fall back to the shell convention
    }
    return 128 + signalNumber(status.signal);
  }
  return status.code;
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGILL: 4,
    SIGTRAP: 5,
    SIGABRT: 6,
    SIGBUS: 7,
    SIGFPE: 8,
    SIGKILL: 9,
    SIGUSR1: 10,
    SIGSEGV: 11,
    SIGUSR2: 12,
    SIGPIPE: 13,
    SIGALRM: 14,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 1;
}
