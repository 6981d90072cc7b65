/**
 * `vaultsh sso populate SESSION`'s plan, a pure function: the config's text and the accounts and
 * roles the portal lists in, the same text with a `[profile ...]` section appended for every
 * account/role no profile covers yet. Existing bytes are never changed (the new text starts with
 * the old one), names come from the account name and the role, collisions get the account id and
 * then a number, and a second run on the result adds nothing.
 *
 * A profile covers an account/role when it names both (`sso_account_id`, `sso_role_name`) and the
 * same session: `sso_session` naming it, or a legacy `sso_start_url` equal to the session's.
 */

export interface PopulateAccount {
  readonly accountId: string;
  readonly accountName: string;
  /** Role names, in the order they should be added. */
  readonly roles: readonly string[];
}

export interface PopulateInput {
  /** The AWS config's current text ("" for no file). */
  readonly configText: string;
  /** The `[sso-session NAME]` the new profiles use. */
  readonly sessionName: string;
  /** The session's `sso_start_url`, to recognise legacy profiles that cover a role already. */
  readonly startUrl: string;
  readonly accounts: readonly PopulateAccount[];
  /** A `region` line for each new profile, when given. */
  readonly region?: string | undefined;
}

export interface PlannedProfile {
  readonly name: string;
  readonly accountId: string;
  readonly accountName: string;
  readonly roleName: string;
}

export interface PopulatePlan {
  /** The new config text; equal to the input when nothing is added. */
  readonly text: string;
  /** The sections appended, in order. */
  readonly added: readonly PlannedProfile[];
  /** Account/role pairs a profile already covers, `name` being that profile. */
  readonly existing: readonly PlannedProfile[];
}

export function planPopulate(input: PopulateInput): PopulatePlan {
  const sections = parseSections(input.configText);
  const taken = new Set(sections.filter((s) => s.profile !== undefined).map((s) => s.profile!));
  const covering = new Map<string, string>();
  for (const section of sections) {
    if (section.profile === undefined) continue;
    const keys = section.keys;
    const account = keys.get("sso_account_id");
    const role = keys.get("sso_role_name");
    if (account === undefined || role === undefined) continue;
    const sameSession = keys.get("sso_session") === input.sessionName ||
      (keys.get("sso_session") === undefined &&
        trimSlash(keys.get("sso_start_url") ?? "") === trimSlash(input.startUrl));
    if (sameSession && !covering.has(`${account}/${role}`)) {
      covering.set(`${account}/${role}`, section.profile);
    }
  }

  const added: PlannedProfile[] = [];
  const existing: PlannedProfile[] = [];
  for (const account of input.accounts) {
    for (const roleName of account.roles) {
      const pair = { accountId: account.accountId, accountName: account.accountName, roleName };
      const owner = covering.get(`${account.accountId}/${roleName}`);
      if (owner !== undefined) {
        existing.push({ ...pair, name: owner });
        continue;
      }
      const name = freeName(account, roleName, taken);
      taken.add(name);
      covering.set(`${account.accountId}/${roleName}`, name);
      added.push({ ...pair, name });
    }
  }
  if (added.length === 0) return { text: input.configText, added, existing };

  const text = input.configText;
  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  let addition = "";
  if (text !== "" && !text.endsWith("\n")) addition += newline;
  for (const profile of added) {
    // a blank line before each section, unless the file is empty or ends with one already
    if ((text + addition).trim() !== "" && !/\n[ \t]*\r?\n$/.test(text + addition)) {
      addition += newline;
    }
    const lines = [
      `[profile ${profile.name}]`,
      `sso_session = ${input.sessionName}`,
      `sso_account_id = ${profile.accountId}`,
      `sso_role_name = ${profile.roleName}`,
      ...(input.region === undefined ? [] : [`region = ${input.region}`]),
    ];
    addition += lines.join(newline) + newline;
  }
  return { text: text + addition, added, existing };
}

/**
 * `<account>-<role>` in lower-case letters, digits and dashes; then with the account id; then
 * numbered. Names only of characters every shell and the AWS SDKs read back unchanged.
 */
function freeName(account: PopulateAccount, roleName: string, taken: ReadonlySet<string>): string {
  const accountPart = slug(account.accountName) || account.accountId;
  const rolePart = slug(roleName) || "role";
  const base = `${accountPart}-${rolePart}`;
  if (!taken.has(base) && base !== "default") return base;
  const withId = `${base}-${account.accountId}`;
  if (!taken.has(withId)) return withId;
  for (let n = 2;; n++) {
    const numbered = `${withId}-${n}`;
    if (!taken.has(numbered)) return numbered;
  }
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

interface Section {
  /** The profile a `[profile NAME]` or `[default]` header declares; undefined otherwise. */
  readonly profile: string | undefined;
  /** Its keys, lower-cased, first value wins (inline comments stripped). */
  readonly keys: Map<string, string>;
}

/** Just enough of the AWS config format to see which profiles exist and what they point at. */
function parseSections(text: string): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)[;#].*$/, "");
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (trimmed.startsWith("[") && trimmed.endsWith("]")) {
      const inner = trimmed.slice(1, -1).trim();
      const match = /^profile\s+(.+)$/.exec(inner);
      const profile = inner === "default" ? "default" : match?.[1]?.trim();
      current = { profile, keys: new Map() };
      sections.push(current);
      continue;
    }
    // indented lines belong to a nested sub-section (`s3 =` + `  max_concurrent_requests = 10`)
    if (current === undefined || /^\s/.test(raw)) continue;
    const equals = line.indexOf("=");
    if (equals < 0) continue;
    const key = line.slice(0, equals).trim().toLowerCase();
    const value = line.slice(equals + 1).trim();
    if (!current.keys.has(key)) current.keys.set(key, value);
  }
  return sections;
}
