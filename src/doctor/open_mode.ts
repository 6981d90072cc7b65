import { type Check, type Finding, finding } from "./finding.ts";

/**
 * `path`'s permission bits in octal ("644") when group or others have any of them; undefined
 * when only the owner does, or when the path cannot be read (then there is nothing to protect).
 */
export async function openMode(path: string): Promise<string | undefined> {
  try {
    const mode = (await Deno.stat(path)).mode;
    return mode !== null && (mode & 0o077) !== 0 ? (mode & 0o777).toString(8) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A warning when `path` is open to group or others (`<shown> <is> (mode 644)`, fixed by
 * `chmod <mode> <shown>`); none when it is private or cannot be read.
 */
export async function openModeFindings(
  check: Check,
  path: string,
  shown: string,
  is: string,
  privateMode: "600" | "700",
): Promise<Finding[]> {
  const mode = await openMode(path);
  if (mode === undefined) return [];
  return [
    finding(check, "warning", `${shown} ${is} (mode ${mode})`, `chmod ${privateMode} ${shown}`),
  ];
}
