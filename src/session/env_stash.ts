/**
 * Credentials the user exported by hand, set aside in the keychain while a marker's profile is
 * in the shell, so that leaving the marker can put them back without the shell holding a secret
 * in a variable. Items expire after a week; `vaultsh clear` removes them with the sessions.
 */
import { formatSessionName, parseSessionName, sessionPrefix } from "../credentials/session_name.ts";
import type { Keychain } from "../keychain/keychain.ts";

const LIFETIME_SECONDS = 7 * 24 * 3600;

export class EnvStash {
  constructor(private readonly keychain: Keychain, private readonly now: () => number) {}

  /** Stores the values and returns an id for the shell state. */
  async put(values: Readonly<Record<string, string>>): Promise<string> {
    const id = Array.from(
      crypto.getRandomValues(new Uint8Array(12)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    const name = formatSessionName({
      type: "shell.Stash",
      profile: id,
      qualifier: "",
      expiry: this.now() + LIFETIME_SECONDS,
    });
    await this.keychain.set(name, JSON.stringify(values));
    return id;
  }

  /** Returns the values and deletes them; null when they are gone (expired or cleared). */
  async take(id: string): Promise<Record<string, string> | null> {
    const prefix = sessionPrefix("shell.Stash", id, "");
    const item = (await this.keychain.list()).find((name) =>
      name.startsWith(prefix) && parseSessionName(name) !== undefined
    );
    if (item === undefined) return null;
    const value = await this.keychain.get(item);
    await this.keychain.delete(item);
    if (value === null) return null;
    try {
      const parsed = JSON.parse(value);
      const result: Record<string, string> = {};
      for (const [key, entry] of Object.entries(parsed)) {
        if (typeof entry === "string") result[key] = entry;
      }
      return result;
    } catch {
      return null;
    }
  }
}
