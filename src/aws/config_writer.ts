/**
 * `vaultsh add <p>` adds `[profile <p>]` to the AWS config when it has no such section. The
 * user's file is appended to, never rewritten: every existing byte, comment and blank line stays.
 */
import { UsageError, VaultshError } from "../errors.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { ioFailure } from "../util/io_failure.ts";
import { configProfileName, sectionHeaders } from "./config_files.ts";

// the SDK loader's character set for section names: other names would be written but never read
const READABLE_NAME = /^[\w@+.%:/-]+$/;

/**
 * Appends `[profile <name>]` (or `[default]`) to the config at `path` unless it already has the
 * section. Creates the directory (0700) and the file (0600) when missing, keeps an existing
 * file's mode, follows a symlinked config to its target, and writes atomically. Returns whether
 * it added the section.
 */
export async function addProfileSection(path: string, name: string): Promise<boolean> {
  validateProfileName(name);
  const target = await writeTarget(path);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(target);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw failure(path, "read", error);
    bytes = new Uint8Array();
    try {
      await createPrivateDir(target.slice(0, target.lastIndexOf("/")));
    } catch (error) {
      throw failure(path, "create", error);
    }
  }
  const text = new TextDecoder().decode(bytes);
  if (sectionHeaders(text).some((header) => configProfileName(header) === name)) return false;

  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  let addition = "";
  if (text !== "" && !text.endsWith("\n")) addition += newline;
  // a blank line before the new section, unless the file ends with one already
  if (text.trim() !== "" && !/\n[ \t]*\r?\n$/.test(text + addition)) addition += newline;
  addition += `${name === "default" ? "[default]" : `[profile ${name}]`}${newline}`;

  const added = new TextEncoder().encode(addition);
  const content = new Uint8Array(bytes.length + added.length);
  content.set(bytes);
  content.set(added, bytes.length);
  try {
    await atomicWrite(target, content);
  } catch (error) {
    throw failure(path, "write", error);
  }
  return true;
}

function failure(path: string, action: string, error: unknown): VaultshError {
  return new VaultshError(`config ${path}`, `cannot ${action} it: ${ioFailure(error)}`, {
    cause: error,
  });
}

/**
 * Throws a UsageError unless `name` can be written as a section that the AWS SDK loader reads
 * back as that same profile. Call it before prompting for keys.
 */
export function validateProfileName(name: string): void {
  const problem = name === ""
    ? "is empty"
    : name.trim() !== name
    ? "starts or ends with white space"
    : /[\r\n]/.test(name)
    ? "contains a line break"
    : name.includes("]")
    ? `contains "]"`
    : !READABLE_NAME.test(name)
    ? "contains characters the AWS SDKs cannot read in a section name"
    : undefined;
  if (problem !== undefined) {
    throw new UsageError(
      `profile name ${JSON.stringify(name)}`,
      problem,
      "use letters, digits and _-@+.%:/",
    );
  }
}

/** Where writes must go: renaming over a symlink would replace a dotfile manager's link. */
async function writeTarget(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw failure(path, "read", error);
  }
  let link: Deno.FileInfo | undefined;
  try {
    link = await Deno.lstat(path);
  } catch {
    return path; // missing: created below
  }
  if (link.isSymlink) {
    throw new VaultshError(`config ${path}`, "it is a symlink to a missing file", {
      hint: "create the file it points to, or remove the link",
    });
  }
  return path;
}

/** Creates a missing directory 0700; an existing one is the user's and is left as it is. */
async function createPrivateDir(dir: string): Promise<void> {
  if (dir === "") return;
  try {
    await Deno.stat(dir);
    return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  // the umask may have narrowed the mode
  await Deno.chmod(dir, 0o700);
}
