/**
 * After `allow`, `deny` or `pin` (run through the shell function), the shell forgets its marker
 * scope, so its next prompt evaluates the governing marker anew whatever the shell did before.
 * Only when the changed marker is the one governing the shell's directory: trusting another
 * marker must not end a `vaultsh use` made here.
 */
import type { App } from "../app.ts";
import { getShell } from "../shells/shell.ts";
import { writeStdout } from "../util/stdout.ts";

/** `changed`: the marker whose trust changed; omitted when it is in $PWD (pin). */
export async function recheckShell(app: App, changed?: string): Promise<void> {
  const env = app.settings.env;
  const name = env.__VAULTSH_SHELL;
  if (name === undefined || name === "") return;
  if (changed !== undefined && !await sameMarker(env.__VAULTSH_MARKER ?? "", changed)) return;
  writeStdout(getShell(name).unsetVar("__vaultsh_scope"));
}

/** Same location: the real path of the directory, plus the name (a symlinked marker is its own). */
async function sameMarker(a: string, b: string): Promise<boolean> {
  if (a === "") return false;
  if (a === b) return true;
  try {
    return await location(a) === await location(b);
  } catch {
    // cannot tell: starting the scope over costs one evaluation, missing it a stale account
    return true;
  }
}

async function location(path: string): Promise<string> {
  const slash = path.lastIndexOf("/");
  return `${await Deno.realPath(path.slice(0, slash) || "/")}${path.slice(slash)}`;
}
