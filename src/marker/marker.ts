/**
 * The `.awsvault` marker (design.md#markers): either one profile name, or `key = value` lines with
 * `profile` (required), `region` and `server`. `#` starts a comment at the start of a line or
 * after whitespace. Markers come from any directory the user enters, often from someone else's
 * repository, so the parser accepts nothing else, and every error names the file and line and
 * shows the offending text escaped (a marker must not be able to drive the terminal).
 *
 * A line containing `=` is always a key line: a profile name that contains `=` must be written
 * `profile = a=b`. A UTF-8 byte order mark and CRLF line ends are accepted.
 */
import { errorMessage, VaultshError } from "../errors.ts";

export interface Marker {
  /** The marker file, as found (not resolved through symlinks). */
  readonly path: string;
  readonly profile: string;
  /** Overrides the profile's region. */
  readonly region?: string;
  /** Serve credentials through the local credential server instead of exporting them. */
  readonly server: boolean;
}

/** The marker's file name. */
export const MARKER_FILE = ".awsvault";
/** Larger files are refused unread: a marker holds a few short lines. */
export const MAX_MARKER_BYTES = 4096;

const KEYS = ["profile", "region", "server"] as const;
type Key = typeof KEYS[number];
const PROFILE_NAME = /^[A-Za-z0-9_.@+=,-]{1,64}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const KEY_HINT = `valid keys: ${KEYS.join(", ")}`;
const PROFILE_HINT = "a profile name is 1 to 64 characters from A-Z a-z 0-9 _ . @ + = , -";
const FORM_HINT = "write either one profile name, or key = value lines (profile, region, server)";

/** Parses a marker's content (bytes as read, or text); throws a VaultshError on anything else. */
export function parseMarker(content: string | Uint8Array, path: string): Marker {
  const text = decode(content, path);
  const nul = text.indexOf("\0");
  if (nul >= 0) fail(path, lineAt(text, nul), "contains a NUL byte", FORM_HINT);

  const values = new Map<Key, { value: string; line: number }>();
  let bare: { value: string; line: number } | undefined;
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const content = stripComment(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
    if (content === "") continue;
    const equals = content.indexOf("=");
    if (equals < 0) {
      if (bare !== undefined) {
        fail(
          path,
          line,
          `second profile name ${show(content)} (line ${bare.line} names ${show(bare.value)})`,
          "a marker names one profile",
        );
      }
      if (values.size > 0) {
        fail(path, line, `profile name ${show(content)} among key = value lines`, FORM_HINT);
      }
      checkProfile(path, line, content);
      bare = { value: content, line };
      continue;
    }
    const key = trim(content.slice(0, equals));
    const value = trim(content.slice(equals + 1));
    if (key === "") fail(path, line, `no key before "="`, KEY_HINT);
    if (!isKey(key)) {
      fail(
        path,
        line,
        `unknown key ${show(key)}`,
        `${KEY_HINT}; a profile name containing "=" is written as profile = <name>`,
      );
    }
    if (bare !== undefined) {
      fail(path, line, `key line after the profile name on line ${bare.line}`, FORM_HINT);
    }
    const earlier = values.get(key);
    if (earlier !== undefined) {
      fail(path, line, `duplicate key "${key}" (first set on line ${earlier.line})`, KEY_HINT);
    }
    if (value === "") fail(path, line, `"${key}" has no value`);
    if (key === "profile") checkProfile(path, line, value);
    if (key === "region" && !REGION.test(value)) {
      fail(path, line, `invalid region ${show(value)}`, "a region looks like eu-west-1");
    }
    if (key === "server" && value !== "true" && value !== "false") {
      fail(path, line, `server must be true or false, not ${show(value)}`);
    }
    values.set(key, { value, line });
  }

  if (bare !== undefined) return { path, profile: bare.value, server: false };
  const profile = values.get("profile")?.value;
  if (profile === undefined) {
    const why = values.size === 0 ? "no profile: the file is empty" : `no "profile" key`;
    throw new VaultshError(`marker ${showPath(path)}`, why, { hint: FORM_HINT });
  }
  const region = values.get("region")?.value;
  const server = values.get("server")?.value === "true";
  return region === undefined ? { path, profile, server } : { path, profile, region, server };
}

/**
 * Reads a marker's bytes, refusing more than MAX_MARKER_BYTES without reading them all.
 * Failures are VaultshErrors naming the file.
 */
export async function readMarkerFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw readError(path, error);
  }
  try {
    const info = await file.stat();
    if (!info.isFile) throw new VaultshError(`marker ${showPath(path)}`, "not a regular file");
    const buffer = new Uint8Array(MAX_MARKER_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const count = await file.read(buffer.subarray(length));
      if (count === null) break;
      length += count;
    }
    if (length > MAX_MARKER_BYTES) tooLarge(path, Math.max(info.size, length));
    return buffer.slice(0, length);
  } catch (error) {
    throw error instanceof VaultshError ? error : readError(path, error);
  } finally {
    file.close();
  }
}

/** Reads and parses a marker; `content` is what was parsed, for the trust check. */
export async function loadMarker(path: string): Promise<{ marker: Marker; content: Uint8Array }> {
  const content = await readMarkerFile(path);
  return { marker: parseMarker(content, path), content };
}

function readError(path: string, error: unknown): VaultshError {
  const why = error instanceof Deno.errors.NotFound
    ? "not found"
    : error instanceof Deno.errors.PermissionDenied
    ? "cannot read it: permission denied"
    : error instanceof Deno.errors.IsADirectory
    ? "not a regular file"
    : `cannot read it: ${errorMessage(error)}`;
  return new VaultshError(`marker ${showPath(path)}`, why, { cause: error });
}

function decode(content: string | Uint8Array, path: string): string {
  if (typeof content === "string") {
    // a cheap upper bound first: most markers are a few dozen characters
    if (content.length * 3 > MAX_MARKER_BYTES) {
      const size = new TextEncoder().encode(content).length;
      if (size > MAX_MARKER_BYTES) tooLarge(path, size);
    }
    return content;
  }
  if (content.length > MAX_MARKER_BYTES) tooLarge(path, content.length);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(content);
  } catch {
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(content);
    fail(path, lineAt(text, text.indexOf("\uFFFD")), "not UTF-8 text", FORM_HINT);
  }
}

function tooLarge(path: string, size: number): never {
  throw new VaultshError(
    `marker ${showPath(path)}`,
    `too large (${size} bytes; a marker holds at most ${MAX_MARKER_BYTES})`,
    { hint: FORM_HINT },
  );
}

function fail(path: string, line: number, why: string, hint?: string): never {
  const what = `marker ${showPath(path)}:${line}`;
  throw new VaultshError(what, why, hint === undefined ? {} : { hint });
}

function checkProfile(path: string, line: number, name: string): void {
  if (!PROFILE_NAME.test(name)) {
    fail(path, line, `invalid profile name ${show(name)}`, PROFILE_HINT);
  }
}

function isKey(key: string): key is Key {
  return (KEYS as readonly string[]).includes(key);
}

/** The line without its comment, trimmed. */
function stripComment(line: string): string {
  const match = /(^|[ \t])#/.exec(line);
  return trim(match === null ? line : line.slice(0, match.index));
}

/** Trims spaces and tabs only: any other character is content, and then invalid. */
function trim(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * Untrusted text for a message: control and format characters (terminal escapes, bidi
 * overrides) and lone surrogates escaped, at most 40 characters, in double quotes.
 */
export function show(text: string): string {
  const characters = [...text];
  const shown = characters.length > 40 ? characters.slice(0, 40).join("") + "…" : text;
  return `"${escape(shown).replace(/"/g, '\\"')}"`;
}

/** A path for a message, escaped like `show` but whole and unquoted. */
export function showPath(path: string): string {
  return escape(path);
}

// Control and format characters (terminal escapes, bidi overrides) and lone surrogates.
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\\\0-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escape(text: string): string {
  return text.replace(
    UNSAFE,
    (character) =>
      character === "\\" ? "\\\\" : `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
