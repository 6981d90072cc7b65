/**
 * Caching as a decorator around any provider (aws-vault's CachedSessionProvider): sessions live in
 * the keychain under a structured name (session_name.ts) and are reused while at least `minTtl`
 * seconds remain. Renewal happens under a per-key lock and re-checks the cache once the lock is
 * held, so parallel shells make one STS call and never spend an MFA code twice. Fresh credentials
 * that cannot be cached (a full disk) still serve the command that got them, with one warning.
 */
import { errorMessage, VaultshError } from "../errors.ts";
import { type Keychain, KeychainError } from "../keychain/keychain.ts";
import * as log from "../log.ts";
import { withFileLock } from "../util/file_lock.ts";
import type { Credentials } from "../aws/credentials.ts";
import { fromStored, toStored } from "./credentials.ts";
import type { CredentialsProvider } from "./provider.ts";
import {
  formatSessionName,
  parseSessionName,
  sessionPrefix,
  type SessionType,
} from "./session_name.ts";

export interface CacheKey {
  readonly type: SessionType;
  readonly profile: string;
  /** MFA serial (GetSessionToken), role ARN (AssumeRole), command (credential_process). */
  readonly qualifier: string;
}

export interface CachedProviderOptions {
  readonly inner: CredentialsProvider;
  readonly keychain: Keychain;
  readonly key: CacheKey;
  /** Seconds that must remain for a cached session to be used. */
  readonly minTtl: number;
  readonly now: () => Date;
  /** Where lock files go. */
  readonly lockDir: string;
  /** How long to wait for another process renewing the same session (it may be prompting). */
  readonly lockTimeoutMs?: number;
}

export class CachedProvider implements CredentialsProvider {
  readonly #options: CachedProviderOptions;
  readonly #prefix: string;

  constructor(options: CachedProviderOptions) {
    this.#options = options;
    this.#prefix = sessionPrefix(options.key.type, options.key.profile, options.key.qualifier);
  }

  async retrieve(): Promise<Credentials> {
    const cached = await this.cached();
    if (cached !== undefined) return cached;
    const { key, lockDir, lockTimeoutMs = 120_000 } = this.#options;
    return withFileLock(
      lockDir,
      this.#prefix,
      lockTimeoutMs,
      `profile "${key.profile}"`,
      async () => {
        // another process may have renewed it while this one waited for the lock
        const renewed = await this.cached();
        if (renewed !== undefined) return renewed;
        const fresh = await this.#options.inner.retrieve();
        if (fresh.expiration !== undefined) {
          try {
            await this.#store(fresh);
          } catch (error) {
            // a full disk or a read-only keychain must not cost the MFA code just spent
            warnNotCached(error);
          }
        }
        return fresh;
      },
    );
  }

  /** The cached credentials if they are still good for `minTtl` seconds; never calls STS. */
  async cached(): Promise<Credentials | undefined> {
    const { keychain, key, minTtl, now } = this.#options;
    const nowSeconds = now().getTime() / 1000;
    for (const item of await this.#items()) {
      const session = parseSessionName(item)!;
      if (session.expiry <= nowSeconds) {
        await keychain.delete(item); // expired: tidy up as we pass
        continue;
      }
      if (session.expiry - nowSeconds < minTtl) continue;
      const value = await this.#read(item);
      const credentials = value === null ? undefined : fromStored(value);
      if (credentials?.expiration === undefined) continue;
      log.debug(
        `profile ${key.profile}: using cached ${key.type} (${
          Math.round(session.expiry - nowSeconds)
        } s left)`,
      );
      return credentials;
    }
    log.debug(`profile ${key.profile}: no usable cached ${key.type}`);
    return undefined;
  }

  /**
   * A cached item's value; null when the item is damaged (a torn file-backend write), so it is
   * renewed and replaced like garbage JSON. A locked or unreachable keychain, or a wrong
   * passphrase, still fails: those are not the item's fault.
   */
  async #read(item: string): Promise<string | null> {
    try {
      return await this.#options.keychain.get(item);
    } catch (error) {
      if (!(error instanceof KeychainError) || error.failure !== "failed") throw error;
      log.debug(
        `profile ${this.#options.key.profile}: a cached ${this.#options.key.type} item is damaged; renewing it`,
      );
      return null;
    }
  }

  async #items(): Promise<string[]> {
    const items = (await this.#options.keychain.list()).filter((item) =>
      item.startsWith(this.#prefix) && parseSessionName(item) !== undefined
    );
    // newest first
    return items.sort((a, b) => parseSessionName(b)!.expiry - parseSessionName(a)!.expiry);
  }

  async #store(credentials: Credentials): Promise<void> {
    const { keychain, key } = this.#options;
    const name = formatSessionName({ ...key, expiry: credentials.expiration!.getTime() / 1000 });
    const older = (await this.#items()).filter((item) => item !== name);
    await keychain.set(name, JSON.stringify(toStored(credentials)));
    for (const item of older) await keychain.delete(item);
  }
}

let warned = false;

/** One line per run, however many links of a chain could not be cached. */
function warnNotCached(error: unknown): void {
  const why = error instanceof VaultshError ? `${error.what}: ${error.why}` : errorMessage(error);
  if (warned) {
    log.debug(`could not cache the new credentials either: ${why}`);
    return;
  }
  warned = true;
  log.warn(`could not cache the new credentials (${why}); they serve this command only`);
}
