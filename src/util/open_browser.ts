/**
 * Opens a URL in the person's browser: the commands in `BROWSER` (colon-separated, `%s` standing
 * for the URL, else the URL appended; the common convention), then the desktop's opener
 * (`xdg-open`, `open` on macOS). Each gets the URL as one argv element, never through a shell.
 * Only for URLs that are no secret (an IAM Identity Center verification URL carries the user
 * code, which is shown on the terminal anyway).
 */
import * as log from "../log.ts";
import type { Env } from "../settings.ts";
import { childEnv } from "./child_env.ts";

/** How long an opener may take to fail before it counts as having opened the browser. */
const OPENER_WAIT_MS = 3_000;

/** True when an opener started (and did not fail at once). `env` is the user's environment. */
export async function openBrowser(url: string, env: Env): Promise<boolean> {
  for (const argv of openers(url, env)) {
    const [program, ...args] = argv;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(program!, {
        args,
        // the user's environment (DISPLAY, PATH...), as given, not this process's
        env: childEnv(env),
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
        // the browser it may start must outlive vaultsh and the terminal
        detached: true,
      }).spawn();
    } catch (error) {
      log.debug(`browser: cannot start ${program}: ${(error as Error).name}`);
      continue;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = await Promise.race([
      child.status,
      new Promise<"running">((resolve) =>
        timer = setTimeout(() => resolve("running"), OPENER_WAIT_MS)
      ),
    ]);
    clearTimeout(timer);
    if (waited === "running") {
      child.unref(); // some openers stay with the browser they started
      return true;
    }
    if (waited.success) return true;
    log.debug(`browser: ${program} failed (exit status ${waited.code})`);
  }
  return false;
}

/** The argv lists to try, in order. */
export function openers(url: string, env: Env): string[][] {
  const list: string[][] = [];
  for (const entry of (env.BROWSER ?? "").split(":")) {
    const words = entry.trim().split(/\s+/).filter((word) => word !== "");
    if (words.length === 0) continue;
    const substituted = words.some((word) => word.includes("%s"));
    const argv = words.map((word) =>
      word.replace(/%(s|%)/g, (_, c: string) => c === "s" ? url : "%")
    );
    list.push(substituted ? argv : [...argv, url]);
  }
  list.push([Deno.build.os === "darwin" ? "open" : "xdg-open", url]);
  return list;
}
