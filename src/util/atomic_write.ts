import { VaultshError } from "../errors.ts";
import { writeAll } from "./write_all.ts";

/**
 * Writes a file so that readers see either the old content or the new, never a mix: write a
 * temporary file beside it, fsync, then rename over the target. The temporary file is removed
 * when anything fails, so a full disk leaves the old file whole.
 */
export async function atomicWrite(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const dir = path.slice(0, path.lastIndexOf("/") + 1) || "./";
  const base = path.slice(path.lastIndexOf("/") + 1);
  const suffix = crypto.getRandomValues(new Uint8Array(6)).reduce(
    (text, byte) => text + byte.toString(16).padStart(2, "0"),
    "",
  );
  const temporary = `${dir}.${base}.${suffix}.tmp`;
  const mode = options.mode ?? await existingMode(path) ?? 0o600;
  try {
    const file = await Deno.open(temporary, { write: true, createNew: true, mode });
    try {
      await writeAll(file, bytes);
      await file.syncData();
    } finally {
      file.close();
    }
    // the umask may have narrowed the mode; set it exactly
    await Deno.chmod(temporary, mode);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

async function existingMode(path: string): Promise<number | undefined> {
  try {
    const info = await Deno.stat(path);
    return info.mode === null ? undefined : info.mode & 0o777;
  } catch {
    return undefined;
  }
}

/**
 * Creates a directory (and parents) with mode 0700, tightening it if it already exists. When
 * XDG_RUNTIME_DIR or TMPDIR is shared, another user may have made the directory (or a symlink in
 * its place, or its parent, vaultsh's own root) first, to read or swap what vaultsh keeps there:
 * the directory and its parent must be the user's (root's counts as theirs), else nothing is
 * touched and the error says whose it is.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  const uid = Deno.uid();
  const slash = path.lastIndexOf("/");
  const parent = slash <= 0 ? "/" : path.slice(0, slash);
  for (const dir of [parent, path]) {
    // the link itself and what it leads to
    for (const info of [await Deno.lstat(dir), await Deno.stat(dir)]) {
      if (uid !== null && info.uid !== null && info.uid !== uid && info.uid !== 0) {
        throw new VaultshError(`directory ${dir}`, `owned by another user (uid ${info.uid})`, {
          hint: "vaultsh keeps private state there: remove it, or point XDG_RUNTIME_DIR " +
            "(or XDG_DATA_HOME) at a directory of your own",
        });
      }
    }
  }
  const info = await Deno.stat(path);
  if (!info.isDirectory) throw new VaultshError(`directory ${path}`, "not a directory");
  if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(path, 0o700);
}
