/**
 * Builds the provider chain for a profile (aws-vault's GetProviderForProfile):
 *
 *   account_b ──AssumeRole (cached per profile + role)──▶ jumpuser's MFA session
 *   jumpuser  ──GetSessionToken + MFA (cached per profile + serial)──▶ long-term key (keychain)
 *
 * One MFA session per source profile and serial serves every role whose `mfa_serial` matches,
 * so one code covers all accounts for the session's lifetime.
 */
import type { ProfileConfig } from "../aws/profile_config.ts";
import { type SsoProfileConfig, ssoProfileConfig } from "../aws/sso_config.ts";
import type { Sts } from "../aws/sts.ts";
import { VaultshError } from "../errors.ts";
import type { Keychain } from "../keychain/keychain.ts";
import * as log from "../log.ts";
import type { Settings } from "../settings.ts";
import { childEnv } from "../util/child_env.ts";
import { AssumeRoleProvider } from "./assume_role_provider.ts";
import { CachedProvider } from "./cached_provider.ts";
import { CredentialProcessProvider } from "./credential_process_provider.ts";
import type { Credentials } from "../aws/credentials.ts";
import { CredentialsFileProvider } from "./credentials_file_provider.ts";
import { KeychainKeyProvider } from "./keychain_key_provider.ts";
import type { SpendMfa } from "./mfa_spender.ts";
import type { CredentialsProvider } from "./provider.ts";
import type { SessionType } from "./session_name.ts";
import { SessionTokenProvider } from "./session_token_provider.ts";
import { WebIdentityProvider } from "./web_identity_provider.ts";
import { roleCredentialsKey } from "../sso/sso_items.ts";

/** AWS caps role sessions made from temporary credentials ("role chaining") at one hour. */
const CHAINED_ROLE_LIMIT = 3600;

export interface ChainDeps {
  readonly keychain: Keychain;
  readonly settings: Settings;
  /** Item names in the keychain (listed once per run, never their values). */
  readonly storedItems: ReadonlySet<string>;
  readonly credentialsFileKeys: (profile: string) => Credentials | undefined;
  readonly stsFor: (profile: ProfileConfig) => Sts;
  /** Spends MFA codes: one device's calls take turns, no code is sent twice. */
  readonly mfa: SpendMfa;
  readonly now: () => Date;
  /**
   * IAM Identity Center GetRoleCredentials for a profile (cached here per profile); undefined
   * where SSO is not wired in.
   */
  readonly sso?: ((profile: SsoProfileConfig) => CredentialsProvider) | undefined;
}

export interface ChainOptions {
  /** `--duration`: the final credentials' lifetime. */
  readonly durationSeconds?: number | undefined;
  /** `--no-session`: no GetSessionToken anywhere in the chain. */
  readonly noSession?: boolean | undefined;
}

interface Link {
  readonly provider: CredentialsProvider;
  /** The credentials are long-term keys (GetSessionToken may wrap them). */
  readonly longTerm: boolean;
  /** The MFA serial these credentials already proved (an MFA session or a role assumed with MFA). */
  readonly mfaProved?: string | undefined;
  /** The profile's own role is already assumed (AssumeRoleWithWebIdentity). */
  readonly roleAssumed?: boolean;
}

export function providerFor(
  target: ProfileConfig,
  deps: ChainDeps,
  options: ChainOptions = {},
): CredentialsProvider {
  return build(target, [], deps, options).provider;
}

/**
 * The link for `profile`, whose credentials feed `above` (the profiles from the target down to
 * the one just above this, empty for the target itself).
 */
function build(
  profile: ProfileConfig,
  above: readonly ProfileConfig[],
  deps: ChainDeps,
  options: ChainOptions,
): Link {
  if (above.some((link) => link.name === profile.name)) {
    const names = [...above.map((link) => link.name), profile.name];
    throw new VaultshError(
      `profile "${profile.name}"`,
      `source_profile loop: ${names.slice(names.indexOf(profile.name)).join(" -> ")}`,
    );
  }
  const isTarget = above.length === 0;
  let base = baseLink(profile, above, deps, options);
  // its role came with the web identity token: that link is this profile's credentials
  if (base.roleAssumed === true) return { ...base, roleAssumed: false };

  if (base.longTerm && options.noSession !== true && primes(profile, above)) {
    // the target alone gets a session of its own; a session feeding roles lasts longer
    const alone = isTarget && profile.roleArn === undefined;
    const session = new SessionTokenProvider({
      profile: profile.name,
      source: base.provider,
      sts: deps.stsFor(profile),
      durationSeconds: alone
        ? options.durationSeconds ?? profile.sessionDurationSeconds ?? 3600
        : profile.chainedSessionDurationSeconds ?? 43200,
      mfaSerial: profile.mfaSerial,
      mfaProcess: profile.mfaProcess,
      mfa: deps.mfa,
    });
    base = {
      provider: cached(session, "sts.GetSessionToken", profile.name, profile.mfaSerial ?? "", deps),
      longTerm: false,
      mfaProved: profile.mfaSerial,
    };
  }
  if (profile.roleArn === undefined) return base;

  const requested = profile.durationSeconds ?? 3600;
  const duration = base.longTerm ? requested : Math.min(requested, CHAINED_ROLE_LIMIT);
  const needsMfa = profile.mfaSerial !== undefined && base.mfaProved !== profile.mfaSerial;
  const roleProvider = new AssumeRoleProvider({
    profile: profile.name,
    source: base.provider,
    sts: deps.stsFor(profile),
    role: {
      roleArn: profile.roleArn,
      roleSessionName: profile.roleSessionName ?? defaultSessionName(deps),
      durationSeconds: duration,
      ...(profile.externalId === undefined ? {} : { externalId: profile.externalId }),
      ...(profile.sourceIdentity === undefined ? {} : { sourceIdentity: profile.sourceIdentity }),
      ...(profile.sessionTags === undefined ? {} : { tags: profile.sessionTags }),
      ...(profile.transitiveSessionTags === undefined
        ? {}
        : { transitiveTagKeys: profile.transitiveSessionTags }),
    },
    ...(duration < requested ? { cappedFrom: requested } : {}),
    mfaSerial: needsMfa ? profile.mfaSerial : undefined,
    mfaProcess: profile.mfaProcess,
    mfa: deps.mfa,
  });
  return {
    provider: cached(roleProvider, "sts.AssumeRole", profile.name, profile.roleArn, deps),
    longTerm: false,
    mfaProved: needsMfa ? profile.mfaSerial : base.mfaProved,
  };
}

/**
 * Whether a profile holding long-term keys gets an MFA session (GetSessionToken) first, as
 * aws-vault decides it:
 * - the target without a role: the session is what the user asked for;
 * - the target with a role: no, the role is assumed straight from the key;
 * - the source of a role: yes when both name the same `mfa_serial` (one code then serves every
 *   role of the chain for the session's hours), unless the chain has exactly one role and it
 *   asks for more than 1h (a role from a session is capped at 1h; from the key it is not).
 */
function primes(profile: ProfileConfig, above: readonly ProfileConfig[]): boolean {
  const child = above.at(-1);
  if (child === undefined) return profile.roleArn === undefined;
  if (profile.roleArn !== undefined && child.roleArn === undefined) return false;
  if (child.mfaSerial === undefined || child.mfaSerial !== profile.mfaSerial) return false;
  const roles = [...above, profile].filter((link) => link.roleArn !== undefined);
  const single = roles.length === 1 ? roles[0]! : undefined;
  if (single !== undefined && (single.durationSeconds ?? 3600) > CHAINED_ROLE_LIMIT) {
    log.debug(
      `profile ${single.name}: role lasts ${single.durationSeconds} s > 1h, assuming it straight from ${profile.name}'s key`,
    );
    return false;
  }
  return true;
}

/**
 * Where a profile's own credentials come from, before any session or role is layered on, in
 * aws-vault's order: a stored key or source_profile, IAM Identity Center, a web identity token,
 * credential_process, then keys in the credentials file.
 */
function baseLink(
  profile: ProfileConfig,
  above: readonly ProfileConfig[],
  deps: ChainDeps,
  options: ChainOptions,
): Link {
  if (deps.storedItems.has(profile.name)) {
    return { provider: new KeychainKeyProvider(deps.keychain, profile.name), longTerm: true };
  }
  if (profile.sourceProfile !== undefined) {
    return build(profile.sourceProfile, [...above, profile], deps, options);
  }
  if (profile.sso !== undefined) {
    if (deps.sso === undefined) {
      throw new VaultshError(
        `profile "${profile.name}"`,
        "its credentials come from IAM Identity Center, which this command does not use",
      );
    }
    // role credentials, like AssumeRole's: a role assumed from them is capped at 1 h
    const sso = ssoProfileConfig(profile.name, profile.sso);
    const key = roleCredentialsKey(sso);
    return {
      provider: cached(deps.sso(sso), "sso.GetRoleCredentials", key.profile, key.qualifier, deps),
      longTerm: false,
    };
  }
  const token = profile.webIdentityTokenFile ?? profile.webIdentityTokenProcess;
  if (token !== undefined) {
    if (profile.roleArn === undefined) {
      throw new VaultshError(
        `profile "${profile.name}"`,
        `${
          profile.webIdentityTokenFile === undefined
            ? "web_identity_token_process"
            : "web_identity_token_file"
        } needs role_arn: the role to assume with the token`,
      );
    }
    const webIdentity = new WebIdentityProvider({
      profile: profile.name,
      sts: deps.stsFor(profile),
      token: profile.webIdentityTokenFile === undefined
        ? { process: profile.webIdentityTokenProcess!, env: childEnv(deps.settings.env) }
        : { file: profile.webIdentityTokenFile },
      roleArn: profile.roleArn,
      roleSessionName: profile.roleSessionName ?? defaultSessionName(deps),
      durationSeconds: profile.durationSeconds ?? 3600,
    });
    return {
      provider: cached(
        webIdentity,
        "sts.AssumeRoleWithWebIdentity",
        profile.name,
        profile.roleArn,
        deps,
      ),
      longTerm: false,
      roleAssumed: true,
    };
  }
  if (profile.credentialProcess !== undefined) {
    const process = new CredentialProcessProvider(
      profile.name,
      profile.credentialProcess,
      childEnv(deps.settings.env),
    );
    return {
      provider: cached(
        process,
        "credential_process",
        profile.name,
        profile.credentialProcess,
        deps,
      ),
      longTerm: false,
    };
  }
  const fileKeys = deps.credentialsFileKeys(profile.name);
  if (fileKeys !== undefined) {
    return {
      provider: new CredentialsFileProvider(fileKeys, profile.name),
      longTerm: fileKeys.sessionToken === undefined,
    };
  }
  throw new VaultshError(
    `profile "${profile.name}"`,
    "no credentials: no stored key, source_profile or credential_process",
    {
      hint: `store a key with: vaultsh add ${profile.name}`,
    },
  );
}

function cached(
  inner: CredentialsProvider,
  type: Exclude<SessionType, "shell.Stash">,
  profile: string,
  qualifier: string,
  deps: ChainDeps,
): CredentialsProvider {
  return new CachedProvider({
    inner,
    keychain: deps.keychain,
    key: { type, profile, qualifier },
    minTtl: deps.settings.minTtl,
    now: deps.now,
    lockDir: `${deps.settings.runtimeDir}/locks`,
    lockTimeoutMs: deps.settings.lockTimeout * 1000,
  });
}

/** `vaultsh-<user>-<unix seconds>`: readable in CloudTrail, within AWS's 2-64 `[\w+=,.@-]`. */
function defaultSessionName(deps: ChainDeps): string {
  const user = (deps.settings.env.USER ?? deps.settings.env.LOGNAME ?? "user").replace(
    /[^\w+=,.@-]/g,
    "",
  );
  return `vaultsh-${user || "user"}-${Math.floor(deps.now().getTime() / 1000)}`.slice(0, 64);
}
