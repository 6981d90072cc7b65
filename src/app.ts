/**
 * The dependencies a command works with, opened lazily: a command that never touches the
 * keychain never loads an FFI library, one that never reads the AWS config never parses it.
 * Tests build their own App around a MemoryKeychain and a temporary environment.
 */
import { AwsConfig } from "./aws/aws_config.ts";
import { parseSessionName } from "./credentials/session_name.ts";
import type { Keychain } from "./keychain/keychain.ts";
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

  constructor(settings: Settings, options: AppOptions = {}, keychain?: Keychain) {
    this.settings = settings;
    this.#options = options;
    if (keychain !== undefined) this.#keychain = Promise.resolve(keychain);
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
    });
  }

  config(): Promise<AwsConfig> {
    return this.#config ??= AwsConfig.load(this.settings);
  }

  /** Forgets the parsed config, after a command changed the file. */
  reloadConfig(): Promise<AwsConfig> {
    this.#config = undefined;
    return this.config();
  }

  #filePassphrase(): Promise<string> {
    const fromEnv = this.settings.env.VAULTSH_FILE_PASSPHRASE;
    if (fromEnv !== undefined) return Promise.resolve(fromEnv);
    return prompt(
      `Enter passphrase for the vaultsh file keychain (${this.settings.dataDir}/keys): `,
      {
        secret: true,
        purpose: "file keychain passphrase",
        hint: "set VAULTSH_FILE_PASSPHRASE, or run it in an interactive terminal",
      },
    );
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
