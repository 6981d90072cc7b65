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
