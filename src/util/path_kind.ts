/** What a path is after following links: a file, a directory, something else, or nothing. */
export async function pathKind(path: string): Promise<"file" | "directory" | "other" | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return null;
  }
  return info.isFile ? "file" : info.isDirectory ? "directory" : "other";
}
