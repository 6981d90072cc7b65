/**
 * The INI dialect of the AWS config and credentials files, read exactly as the AWS SDKs read it
 * (test/ini_parser_test.ts checks it against the AWS JS SDK's own loader on thousands of
 * generated files). vaultsh's own reader: the SDK's loader would bring Deno's Node layer into
 * every start-up.
 *
 * The rules, all the SDK's:
 * - Lines end at `\n` or `\r\n`. `#` or `;` at the start of a line or after white space starts
 *   a comment (`a=1#2` keeps its `#`).
 * - `[type name]` with a known type (`profile`, `sso-session`, `services`) files the lines below
 *   under `type.name`; the name may be quoted and uses letters, digits and `_-@+.%:/` only. A
 *   typed header of another type hides its lines; any other header (`[default]`, `[a b]`) is
 *   filed under its text as written.
 * - `key = value`, both trimmed; a key with an empty value (`s3 =`) opens a sub-section whose
 *   indented lines become `s3.key`; the first unindented line with a value closes it.
 * - Duplicate sections merge, a later value of a key replaces the earlier one. Values are
 *   strings, quotes included.
 */

/** A `[...]` line. */
export interface IniHeader {
  /** 1-based line number. */
  readonly line: number;
  /** The text between the brackets. */
  readonly inner: string;
  /**
   * The key the SDKs file the section under (`profile.x`, `sso-session.x`, `default`, `a b`);
   * undefined when they ignore the lines under it (a typed header of an unknown type).
   */
  readonly key: string | undefined;
}

export interface IniFile {
  /** Every header line, in file order (a section without keys is declared here only). */
  readonly headers: readonly IniHeader[];
  /**
   * The values by section key and key, as the SDKs return them: a section appears once a line
   * under it gives a key a value; `s3.max_concurrent_requests` for sub-section keys.
   */
  readonly sections: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** The section types the SDKs know; a typed header of another type hides its lines. */
export const SECTION_TYPES: readonly string[] = ["profile", "sso-session", "services"];

const TYPED_HEADER = /^([\w-]+)\s(["'])?([\w@+.%:/-]+)\2$/;
const COMMENT = /(^|\s)[;#]/;

export function parseIni(text: string): IniFile {
  const headers: IniHeader[] = [];
  const sections = new Map<string, Map<string, string>>();
  let section: string | undefined;
  let subSection: string | undefined;

  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.split(COMMENT)[0]!.trim();
    if (line.startsWith("[") && line.endsWith("]")) {
      const inner = line.slice(1, -1);
      const key = sectionKey(inner);
      headers.push({ line: index + 1, inner, key });
      // `[]` declares a section whose lines the SDKs ignore all the same
      section = key === "" ? undefined : key;
      subSection = undefined;
      return;
    }
    if (section === undefined) return;
    const equals = line.indexOf("=");
    // a line without "=" or starting with it sets nothing
    if (equals <= 0) return;
    const name = line.slice(0, equals).trim();
    const value = line.slice(equals + 1).trim();
    if (value === "") {
      subSection = name;
      return;
    }
    if (subSection !== undefined && raw.trimStart() === raw) subSection = undefined;
    let values = sections.get(section);
    if (values === undefined) sections.set(section, values = new Map());
    const key = subSection === undefined ? name : `${subSection}.${name}`;
    values.set(key, value);
  });
  return { headers, sections };
}

/** The key a header's lines are filed under, or undefined when the SDKs ignore them. */
function sectionKey(inner: string): string | undefined {
  const typed = TYPED_HEADER.exec(inner);
  if (typed === null) return inner;
  const [, type = "", , name = ""] = typed;
  return SECTION_TYPES.includes(type) ? `${type}.${name}` : undefined;
}
