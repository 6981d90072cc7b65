/**
 * What the IAM Identity Center core works with, passed in by whoever wires it (commands, the
 * credential chain, tests): the keychain, the two services' clients, the clock, where locks live.
 */
import type { SsoPortal } from "../aws/sso.ts";
import type { SsoOidc } from "../aws/sso_oidc.ts";
import type { Keychain } from "../keychain/keychain.ts";
import type { SsoSessionConfig } from "./sso_config.ts";

export interface SsoDeps {
  readonly keychain: Keychain;
  /** The OIDC client for a session (its `sso_region`, endpoint overrides applied). */
  readonly oidc: (session: SsoSessionConfig) => SsoOidc;
  /** The portal client for a session. */
  readonly portal: (session: SsoSessionConfig) => SsoPortal;
  readonly now: () => Date;
  /** Waits between CreateToken polls; tests pass a fake clock's. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Where lock files go (`<runtimeDir>/locks`). */
  readonly lockDir: string;
  /** How long to wait for another vaultsh signing in to the same session (it may take minutes). */
  readonly lockTimeoutMs: number;
  /** `~/.aws/sso/cache`, whose valid tokens are used; undefined to ignore the AWS CLI's cache. */
  readonly awsCliCacheDir: string | undefined;
  /**
   * Opens the verification URL in a browser, true when it did; undefined when no browser should
   * open (`--no-browser`).
   */
  readonly openBrowser: ((url: string) => Promise<boolean>) | undefined;
  /** Tells the person at the terminal one line (on stderr), even when status lines are quiet. */
  readonly tell: (line: string) => void;
  /**
   * Sign in with a device code even where a browser opens here (`--use-device-code`: the
   * browser is on another device). Otherwise sso-sessions sign in with the authorization code
   * and PKCE, as the AWS CLI does, and fall back to a device code when no browser opens.
   */
  readonly useDeviceCode?: boolean;
  /** How long the authorization-code flow waits for the browser (default 10 minutes). */
  readonly callbackTimeoutMs?: number;
}
