/**
 * Opens a URL in the person's browser: the commands in `BROWSER` (colon-separated, `%s` standing
 * for the URL, else the URL appended; the common convention), then the desktop's opener
 * (`xdg-open` where there is a display, `open` on macOS). Each gets its target as one argv
 * element, never through a shell, in the user's environment minus vaultsh's secrets.
 *
 * A secret URL (a console sign-in URL signs anyone in) never goes into argv, which every local
 * user can read in /proc/<pid>/cmdline: openSecretUrl() writes it into a 0600 HTML page in a
 * private directory that redirects to it, opens the page's file:// URL, and removes the page once
 * the browser has read it (or after a bound, read or not). An IAM Identity Center verification
 * URL is no secret (the user code it carries is shown on the terminal anyway): openBrowser().
 */
import * as log from "../log.ts";
import type { Env } from "../settings.ts";
import { ensurePrivateDir } from "./atomic_write.ts";
import { childEnv } from "./child_env.ts";
import { writeAll } from "./write_all.ts";

/** How long an opener may take to fail before it counts as having opened the browser. */
const OPENER_WAIT_MS = 3_000;
const DEFAULT_READ_TIMEOUT_MS = 20_000;
const POLL_MS = 100;
const UNREAD = new Date(1000);

/** True when an opener started (and did not fail at once). `env` is the user's environment. */
export function openBrowser(url: string, env: Env): Promise<boolean> {
  return runOpeners(url, env, async (status) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = await Promise.race([
      status,
      new Promise<"running">((resolve) =>
        timer = setTimeout(() => resolve("running"), OPENER_WAIT_MS)
      ),
    ]);
    clearTimeout(timer);
    return waited === "running" || waited.success;
  });
}

export interface SecretUrlOptions {
  /** A private directory for the redirect page. */
  readonly pageDir: string;
  /** The user's environment. */
  readonly env: Env;
  /** What opens, for the status line ("the AWS console"). */
  readonly what: string;
  /** How long to wait for the browser to read the page before removing it anyway. */
  readonly readTimeoutMs?: number;
}

/** Opens `url` through a redirect page; false when there is nothing to open it with. */
export async function openSecretUrl(url: string, options: SecretUrlOptions): Promise<boolean> {
  if (openers("", options.env).length === 0) return false; // no page written for nothing
  await ensurePrivateDir(options.pageDir);
  const page = `${options.pageDir}/signin-${randomHex(16)}.html`;
  const file = await Deno.open(page, { write: true, createNew: true, mode: 0o600 });
  try {
    await writeAll(file, new TextEncoder().encode(redirectPage(url)));
  } finally {
    file.close();
  }
  try {
    // an access time far in the past: the first read moves it (relatime does so too)
    await Deno.utime(page, UNREAD, new Date());
    let told = false;
    return await runOpeners(`file://${encodeURI(page)}`, options.env, async (status) => {
      if (!told) log.info(`opening ${options.what} in your browser`);
      told = true;
      let exited: Deno.CommandStatus | undefined;
      status.then((done) => exited = done);
      const deadline = Date.now() + (options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS);
      while (Date.now() < deadline) {
        if (exited !== undefined && !exited.success) return false;
        if (await wasRead(page)) {
          // the browser follows the redirect from what it read; a moment to finish reading
          await new Promise((resolve) => setTimeout(resolve, 500));
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      return true;
    });
  } finally {
    await Deno.remove(page).catch(() => {});
  }
}

/** The argv lists to try, in order. */
export function openers(target: string, env: Env): string[][] {
  const list: string[][] = [];
  for (const entry of (env.BROWSER ?? "").split(":")) {
    const words = entry.trim().split(/\s+/).filter((word) => word !== "");
    if (words.length === 0) continue;
    const substituted = words.some((word) => word.includes("%s"));
    const argv = words.map((word) =>
      word.replace(/%(s|%)/g, (_, c: string) => c === "s" ? target : "%")
    );
    list.push(substituted ? argv : [...argv, target]);
  }
  if (Deno.build.os === "darwin") list.push(["open", target]);
  // without a display xdg-open falls back to a text browser with no terminal to draw on
  else if (env.DISPLAY || env.WAYLAND_DISPLAY) list.push(["xdg-open", target]);
  return list;
}

/**
 * Starts each opener on `target` in turn until `opened` says one worked (given the opener's exit
 * status, which may never come: some openers stay with the browser they start).
 */
async function runOpeners(
  target: string,
  env: Env,
  opened: (status: Promise<Deno.CommandStatus>) => Promise<boolean>,
): Promise<boolean> {
  for (const [program, ...args] of openers(target, env)) {
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
    let exited = false;
    const status = child.status.then((done) => {
      exited = true;
      return done;
    });
    if (await opened(status)) {
      if (!exited) child.unref();
      return true;
    }
    log.debug(`browser: ${program} failed (exit status ${(await status).code})`);
  }
  return false;
}

/** Whether the page's access time moved (on a noatime mount it never does: the bound applies). */
async function wasRead(page: string): Promise<boolean> {
  try {
    return ((await Deno.stat(page)).atime?.getTime() ?? 0) > UNREAD.getTime();
  } catch {
    return true; // gone: nothing left to wait for
  }
}

function redirectPage(url: string): string {
  const attribute = url.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=${attribute}">
<title>AWS console sign-in</title></head>
<body><p><a href="${attribute}">Continue to the AWS console</a></p></body></html>
`;
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}
