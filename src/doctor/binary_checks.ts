/**
 * doctor's check of the installed vaultsh: what is running (a compiled binary is its own
 * executable; install.sh's launcher runs deno and names itself in VAULTSH_SELF; anything else is
 * a source checkout run with `deno run`), that it is there and executable, and that `vaultsh`
 * on PATH is this same program.
 */
import meta from "../../deno.json" with { type: "json" };
import type { App } from "../app.ts";
import { realPath } from "./real_path.ts";
import { type Finding, finding } from "./finding.ts";

export async function checkBinary(app: App): Promise<Finding[]> {
  const env = app.settings.env;
  const exec = Deno.execPath();
  const underDeno = /(^|\/)deno$/.test(exec);
  const self = underDeno ? env.VAULTSH_SELF : exec;
  if (self === undefined || !self.startsWith("/")) {
    return [
      finding(
        "binary",
        "warning",
        `vaultsh ${meta.version} runs from source (${exec}), not from an installed vaultsh: ` +
          "vaultsh init has no path to put into the shell integration",
        "install it with ./install.sh from the source directory",
      ),
    ];
  }
  const kind = underDeno ? "launcher script, runs the cached sources with deno" : "compiled binary";
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(self);
  } catch {
    return [
      finding(
        "binary",
        "error",
        `the installed vaultsh ${self} does not exist (VAULTSH_SELF)`,
        "install it again with ./install.sh",
      ),
    ];
  }
  if (!info.isFile || info.mode === null || (info.mode & 0o111) === 0) {
    return [
      finding("binary", "error", `${self} is not an executable file`, `chmod 755 ${self}`),
    ];
  }
  const findings = [finding("binary", "ok", `vaultsh ${meta.version} at ${self} (${kind})`)];

  const onPath = await findOnPath("vaultsh", env.PATH ?? "");
  const dir = self.slice(0, self.lastIndexOf("/")) || "/";
  if (onPath === undefined) {
    findings.push(
      finding(
        "binary",
        "warning",
        "vaultsh is not on PATH: the shell integration works, typing vaultsh elsewhere does not",
        `add ${dir} to PATH`,
      ),
    );
  } else if (await realPath(onPath) !== await realPath(self)) {
    findings.push(
      finding(
        "binary",
        "warning",
        `vaultsh on PATH is ${onPath}, not this one (${self})`,
        `remove the other one, or put ${dir} first in PATH`,
      ),
    );
  }
  return findings;
}

async function findOnPath(command: string, path: string): Promise<string | undefined> {
  for (const dir of path.split(":")) {
    if (dir === "" || !dir.startsWith("/")) continue;
    const candidate = `${dir}/${command}`;
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
