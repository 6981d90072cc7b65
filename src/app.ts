/**
 * The dependencies a command works with, opened lazily: a command that never touches the
 * keychain never loads an FFI library, one that never reads the AWS config never parses it.
 */
import { AwsConfig } from "./aws/aws_config.ts";
import { parseSessionName } from "./credentials/session_name.ts";
import { VaultshError } from "./errors.ts";
import { type Keychain, KeychainError } from "./keychain/keychain.ts";
import { openKeychain } from "./keychain/open_keychain.ts";
import { type Env, loadSettings, type Settings } from "./settings.ts";
import { prompt } from "./tty.ts";

export interface AppOptions {
  /** The `--backend` flag. */
  readonly backend?: string | undefined;
}

export class App {
  readonly settings: Settings;
  readonly #options: AppOptions;
  #keychain: Promise<Keychain> | undefined;
  #config: Promise<AwsConfig> | undefined;

  constructor(settings: Settings, options: AppOptions = {}) {
    this.settings = settings;
    this.#options = options;
  }

  /** An App for the running process. */
  static fromEnv(options: AppOptions = {}, env?: Env): App {
    return new App(loadSettings(env), options);
  }

  keychain(): Promise<Keychain> {
    return this.#keychain ??= openKeychain(this.settings, {
      ...(this.#options.backend === undefined ? {} : { backend: this.#options.backend }),
      passphrase: () => this.#filePassphrase(),
      expiryOf: temporaryCredentialsExpiry,
    }).then((keychain) =>
      keychain.backend === "file"
        ? withPassphraseHints(keychain, () => this.#passphraseFrom)
        : keychain
    );
  }

  config(): Promise<AwsConfig> {
    return this.#config ??= AwsConfig.load(this.settings);
  }

  /** Forgets the parsed config, after a command changed the file. */
  reloadConfig(): Promise<AwsConfig> {
    this.#config = undefined;
    return this.config();
  }

  #passphraseFrom: "env" | "prompt" | undefined;

  async #filePassphrase(): Promise<string> {
    const fromEnv = this.settings.env.VAULTSH_FILE_PASSPHRASE;
    if (fromEnv !== undefined) {
      this.#passphraseFrom = "env";
      return fromEnv;
    }
    this.#passphraseFrom = "prompt";
    const dir = `${this.settings.dataDir}/keys`;
    const options = {
      secret: true,
      purpose: "file keychain passphrase",
      hint: "set VAULTSH_FILE_PASSPHRASE, or run it in an interactive terminal",
    };
    const passphrase = await prompt(
      `Enter passphrase for the vaultsh file keychain (${dir}): `,
      options,
    );
    // a new keychain takes the passphrase as typed: a typo would lock every key stored under it
    if (passphrase !== "" && await isEmptyStore(dir)) {
      if (await prompt("Repeat the passphrase: ", options) !== passphrase) {
        throw new VaultshError(
          "file keychain passphrase",
          "the two entries differ; nothing was stored",
        );
      }
    }
    return passphrase;
  }
}

/** No item and no passphrase check yet: the passphrase typed now makes the keychain. */
async function isEmptyStore(dir: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.endsWith(".tmp")) return false;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return false;
  }
  return true;
}

/** A wrong passphrase's hint names where it came from: the variable, or the prompt. */
function withPassphraseHints(
  keychain: Keychain,
  from: () => "env" | "prompt" | undefined,
): Keychain {
  const hinted = <T>(operation: () => Promise<T>) =>
    operation().catch((error: unknown) => {
      if (
        !(error instanceof KeychainError) || error.failure !== "passphrase" ||
        !error.why.startsWith("wrong passphrase")
      ) throw error;
      throw new HintedKeychainError(
        error,
        from() === "env"
          ? "VAULTSH_FILE_PASSPHRASE does not open it: check it, or unset it to be asked"
          : "the passphrase typed does not open it: type the one it was made with",
      );
    });
  return {
    backend: keychain.backend,
    get: (name) => hinted(() => keychain.get(name)),
    set: (name, value) => hinted(() => keychain.set(name, value)),
    delete: (name) => hinted(() => keychain.delete(name)),
    list: () => hinted(() => keychain.list()),
  };
}

/** The same failure, with the hint that fits how the passphrase was given. */
class HintedKeychainError extends KeychainError {
  override readonly hint: string | undefined;
  constructor(error: KeychainError, hint: string) {
    super(error.backend, error.failure, error.why, { cause: error.cause });
    this.hint = hint;
  }
}

/**
 * When the temporary credentials an item holds expire (Unix seconds): MFA sessions, role
 * credentials, credential_process results. Long-term keys and stashed variables: undefined, so
 * the fast layer never copies them.
 */
function temporaryCredentialsExpiry(item: string): number | undefined {
  const session = parseSessionName(item);
  return session === undefined || session.type === "shell.Stash" ? undefined : session.expiry;
}
