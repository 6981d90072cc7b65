/**
 * Tests that need a system tool (zsh, fish, gnome-keyring-daemon, /usr/bin/aws, ...) declare it:
 *
 *   Deno.test({ name: "...", ...needs("zsh", "tmux"), fn: async () => { ... } });
 *
 * Locally a missing tool skips the test with a message naming it. Under CI=true nothing is
 * skipped: the test runs and fails, so a missing package in .ci/run cannot go unnoticed.
 */
const found = new Map<string, string | null>();

/** The absolute path of a tool (a command on PATH, or an absolute path), or null. */
export function which(tool: string): string | null {
  if (found.has(tool)) return found.get(tool)!;
  let path: string | null = null;
  const candidates = tool.startsWith("/")
    ? [tool]
    : (Deno.env.get("PATH") ?? "").split(":").filter((dir) => dir !== "").map((dir) =>
      `${dir}/${tool}`
    );
  for (const candidate of candidates) {
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) {
        path = candidate;
        break;
      }
    } catch {
      // not here
    }
  }
  found.set(tool, path);
  return path;
}

const reported = new Set<string>();

/** `{ ignore }` for Deno.test: true only outside CI when a tool is missing. */
export function needs(...tools: string[]): { ignore: boolean } {
  const missing = tools.filter((tool) => which(tool) === null);
  // under CI a missing tool must fail the test, never skip it
  const ignore = missing.length > 0 && Deno.env.get("CI") !== "true";
  const key = missing.join(", ");
  if (ignore && !reported.has(key)) {
    reported.add(key);
    // deno-lint-ignore no-console
    console.warn(`skipping tests that need ${key}: not installed`);
  }
  return { ignore };
}

/** Throws a clear error when a tool is missing (used inside tests that run under CI). */
export function requireTool(tool: string): string {
  const path = which(tool);
  if (path === null) throw new Error(`${tool} is not installed (needed by this test)`);
  return path;
}
