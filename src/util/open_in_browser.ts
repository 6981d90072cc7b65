/**
 * Opens a secret URL (a console sign-in URL signs anyone in) in the desktop's browser without
 * putting it in any process's argv, which every local user can read in /proc/<pid>/cmdline: the
 * URL goes into a 0600 HTML page in a private directory that redirects to it, the opener gets
 * the page's file:// URL, and the page is removed once the browser has read it (or after a
 * bound, read or not).
 */
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { ensurePrivateDir } from "./atomic_write.ts";
import { writeAll } from "./write_all.ts";

export interface OpenOptions {
  /** A private directory for the redirect page. */
  readonly pageDir: string;
  /** The opener's environment (no secrets). */
  readonly env: Record<string, string>;
  /** What opens, for the status line ("the AWS console"). */
  readonly what: string;
  /** How long to wait for the browser to read the page before removing it anyway. */
  readonly readTimeoutMs?: number;
}

/** `opened`, or `no-browser` when there is no opener or display to open it with. */
export type OpenResult = "opened" | "no-browser";

const DEFAULT_READ_TIMEOUT_MS = 20_000;
const POLL_MS = 100;
const UNREAD = new Date(1000);

/** Opens `url` through a redirect page; `no-browser` when there is nothing to open it with. */
export async function openInBrowser(url: string, options: OpenOptions): Promise<OpenResult> {
  const opener = Deno.build.os === "darwin" ? "open" : "xdg-open";
  const { env } = options;
  if (Deno.build.os !== "darwin" && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    // xdg-open would fall back to a text browser with no terminal to draw on
    log.debug(`no DISPLAY or WAYLAND_DISPLAY: not running ${opener}`);
    return "no-browser";
  }
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
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(opener, {
        args: [`file://${encodeURI(page)}`],
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
        // the browser it may start must outlive this command and the terminal
        detached: true,
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return "no-browser";
      throw new VaultshError("login", `cannot open a browser: ${error}`, {
        hint: "vaultsh login --stdout prints the URL instead",
      });
    }
    log.info(`opening ${options.what} in your browser`);
    let exited: Deno.CommandStatus | undefined;
    child.status.then((status) => exited = status);
    const deadline = Date.now() + (options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS);
    while (Date.now() < deadline) {
      if (exited !== undefined && !exited.success) {
        log.debug(`${opener} failed (exit status ${exited.code})`);
        return "no-browser";
      }
      if (await wasRead(page)) {
        // the browser follows the redirect from what it read; a moment for it to finish reading
        await new Promise((resolve) => setTimeout(resolve, 500));
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (exited === undefined) child.unref(); // some openers stay with the browser they started
    return "opened";
  } finally {
    await Deno.remove(page).catch(() => {});
  }
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
