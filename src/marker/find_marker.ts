/**
 * Finds the `.awsvault` marker governing a directory: the nearest one at or above it, like
 * `.git`. The hooks walk up in shell code with `[ -f "$dir/.awsvault" ]`; this walk makes the
 * same decision so that the shell and the binary always agree on which marker governs:
 * - the directory is taken as given (the shell's logical `$PWD`), not resolved through
 *   symlinks; `.` and `..` segments are resolved by name, as `cd` does;
 * - a regular file, or a symlink to one, is a marker; a directory, a dangling symlink or
 *   anything else named `.awsvault` is not, and the walk goes on above it;
 * - a marker that exists but cannot be read still governs (`[ -f ]` is true for it): the caller
 *   then reports the read error instead of silently falling back to a marker further up;
 * - a directory that cannot be searched hides its marker, as it does from `[ -f ]`.
 */
import { MARKER_FILE } from "./marker.ts";

/** The path of the nearest marker at or above `startDir`, or null when there is none. */
export async function findMarker(startDir: string): Promise<string | null> {
  const segments = normalize(startDir.startsWith("/") ? startDir : `${Deno.cwd()}/${startDir}`);
  for (let depth = segments.length; depth >= 0; depth--) {
    const candidate = `/${[...segments.slice(0, depth), MARKER_FILE].join("/")}`;
    try {
      if ((await Deno.stat(candidate)).isFile) return candidate;
    } catch {
      // not there, not searchable, or a dangling symlink: `[ -f ]` is false for all of them
    }
  }
  return null;
}

function normalize(path: string): string[] {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return segments;
}
