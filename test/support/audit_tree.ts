/**
 * Every entry under a directory with its type and mode, for audits: which files and directories
 * a scenario created (compare two listings), and with which permissions.
 */
export interface TreeEntry {
  readonly path: string;
  readonly kind: "file" | "dir" | "symlink" | "other";
  /** Permission bits (mode & 0o7777). */
  readonly mode: number;
}

/** Lists `root` and everything under it (root itself excluded), skipping `skip` subtrees. */
export async function listTree(
  root: string,
  skip: (path: string) => boolean = () => false,
): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  async function walk(dir: string): Promise<void> {
    let names: string[];
    try {
      names = await Array.fromAsync(Deno.readDir(dir), (entry) => entry.name);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const name of names.sort()) {
      const path = `${dir}/${name}`;
      if (skip(path)) continue;
      let info: Deno.FileInfo;
      try {
        info = await Deno.lstat(path);
      } catch {
        continue; // gone meanwhile
      }
      const kind = info.isFile
        ? "file"
        : info.isDirectory
        ? "dir"
        : info.isSymlink
        ? "symlink"
        : "other";
      entries.push({ path, kind, mode: (info.mode ?? 0) & 0o7777 });
      if (kind === "dir") await walk(path);
    }
  }
  await walk(root);
  return entries;
}
