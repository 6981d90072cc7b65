/**
 * The IAM Identity Center core wired to the local SsoServer for unit and integration tests: a
 * fake clock the server and the core share (polling "sleeps" move it, so no test waits), a
 * MemoryKeychain, a private lock directory and AWS CLI cache directory, the real SDK clients.
 *
 *   await using sso = await ssoFixture();
 *   const tokens = sso.tokenSource();
 */
import { createSsoPortal } from "../../src/aws/sso.ts";
import { createSsoOidc } from "../../src/aws/sso_oidc.ts";
import { MemoryKeychain } from "./memory_keychain.ts";
import type { SsoProfileConfig, SsoSessionConfig } from "../../src/aws/sso_config.ts";
import type { SsoDeps } from "../../src/sso/sso_deps.ts";
import { SsoTokenSource } from "../../src/sso/sso_token_source.ts";
import { ACCOUNT_ACCESS_SCOPE, SsoServer, type SsoServerOptions } from "./sso_server.ts";

/** A clock tests move by hand; `sleep` moves it instead of waiting. */
export class FakeClock {
  ms = Date.parse("2026-11-29T12:00:00Z");
  /** Every sleep asked for, in ms. */
  readonly sleeps: number[] = [];
  readonly now = (): Date => new Date(this.ms);
  readonly nowMs = (): number => this.ms;
  readonly sleep = (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.ms += ms;
    return Promise.resolve();
  };
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export interface SsoFixture extends AsyncDisposable {
  readonly server: SsoServer;
  readonly clock: FakeClock;
  readonly keychain: MemoryKeychain;
  readonly session: SsoSessionConfig;
  /** `~/.aws/sso/cache` of this fixture (it exists, empty). */
  readonly cacheDir: string;
  readonly lockDir: string;
  /** Every line the core told the person. */
  readonly told: string[];
  /** Every URL the stand-in browser opener was given. */
  readonly opened: string[];
  deps(overrides?: Partial<SsoDeps>): SsoDeps;
  /** A token source as one vaultsh process would build it. */
  tokenSource(overrides?: Partial<SsoDeps>, session?: SsoSessionConfig): SsoTokenSource;
  profile(name: string, accountId: string, roleName: string): SsoProfileConfig;
}

export async function ssoFixture(
  options: SsoServerOptions & { session?: Partial<SsoSessionConfig> } = {},
): Promise<SsoFixture> {
  const clock = new FakeClock();
  const server = new SsoServer({ clock: clock.nowMs, ...options });
  const dir = await Deno.makeTempDir({ prefix: "vaultsh-sso-" });
  const cacheDir = `${dir}/aws-sso-cache`;
  await Deno.mkdir(cacheDir, { recursive: true });
  const keychain = new MemoryKeychain();
  const told: string[] = [];
  const opened: string[] = [];
  const session: SsoSessionConfig = {
    name: "dev",
    startUrl: server.startUrl,
    region: server.region,
    registrationScopes: [ACCOUNT_ACCESS_SCOPE],
    ...options.session,
  };
  const deps = (overrides: Partial<SsoDeps> = {}): SsoDeps => ({
    keychain,
    oidc: (s) => createSsoOidc({ region: s.region, url: server.oidcUrl }, "test"),
    portal: (s) => createSsoPortal({ region: s.region, url: server.portalUrl }, "test"),
    now: clock.now,
    sleep: clock.sleep,
    lockDir: `${dir}/locks`,
    lockTimeoutMs: 10_000,
    awsCliCacheDir: cacheDir,
    openBrowser: (url) => {
      opened.push(url);
      return Promise.resolve(true);
    },
    tell: (line) => void told.push(line),
    // the stand-in opener opens nothing: the authorization-code flow has its own tests
    useDeviceCode: true,
    ...overrides,
  });
  return {
    server,
    clock,
    keychain,
    session,
    cacheDir,
    lockDir: `${dir}/locks`,
    told,
    opened,
    deps,
    tokenSource: (overrides, s = session) =>
      new SsoTokenSource(deps(overrides), s, `vaultsh sso login ${s.name ?? "legacy"}`),
    profile: (name, accountId, roleName) => ({ name, session, accountId, roleName }),
    async [Symbol.asyncDispose]() {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
