/**
 * Builds the provider chain for a profile (SPEC §5; aws-vault's GetProviderForProfile):
 *
 *   account_b ──AssumeRole (cached per profile + role)──▶ jumpuser's MFA session
 *   jumpuser  ──GetSessionToken + MFA (cached per profile + serial)──▶ long-term key (keychain)
 *
 * One MFA session per source profile and serial serves every role whose `mfa_serial` matches,
 * so one code covers all accounts for the session's lifetime.
 */
import type { ProfileConfig } from "../aws/profile_config.ts";
import type { Sts } from "../aws/sts.ts";
import { VaultshError } from "../errors.ts";
import type { Keychain } from "../keychain/keychain.ts";
import * as log from "../log.ts";
import type { Settings } from "../settings.ts";
import { childEnv } from "../util/child_env.ts";
import { AssumeRoleProvider } from "./assume_role_provider.ts";
import { CachedProvider } from "./cached_provider.ts";
import { CredentialProcessProvider } from "./credential_process_provider.ts";
import type { Credentials } from "./credentials.ts";
import { CredentialsFileProvider } from "./credentials_file_provider.ts";
import { KeychainKeyProvider } from "./keychain_key_provider.ts";
import type { SpendMfa } from "./mfa_spender.ts";
import type { CredentialsProvider } from "./provider.ts";
import { SessionTokenProvider } from "./session_token_provider.ts";

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
}

export function providerFor(
  target: ProfileConfig,
  deps: ChainDeps,
  options: ChainOptions = {},
): CredentialsProvider {
  return build(target, undefined, deps, options, []).provider;
}

function build(
  profile: ProfileConfig,
  child: ProfileConfig | undefined,
  deps: ChainDeps,
  options: ChainOptions,
  seen: string[],
): Link {
  if (seen.includes(profile.name)) {
    throw new VaultshError(
      `profile "${profile.name}"`,
      `source_profile loop: ${[...seen, profile.name].join(" -> ")}`,
    );
  }
  const chain = [...seen, profile.name];
  const isTarget = child === undefined;
  const base = baseLink(profile, deps, options, chain);

  if (profile.roleArn !== undefined) {
    const duration = (isTarget ? options.durationSeconds : undefined) ?? profile.durationSeconds ??
      deps.settings.roleTtl ?? 3600;
    const needsMfa = profile.mfaSerial !== undefined && base.mfaProved !== profile.mfaSerial;
    if (!base.longTerm && duration > CHAINED_ROLE_LIMIT) {
      throw new VaultshError(
        `profile "${profile.name}"`,
        `a role assumed from temporary credentials lasts at most 1h, not ${duration} s`,
        {
          hint:
            "lower duration_seconds/--duration, or assume the role straight from the key with --no-session",
        },
      );
    }
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

  if (!base.longTerm || options.noSession === true) return base;

  if (!isTarget) {
    // A GetSessionToken session may feed the child's AssumeRole only when it proves the MFA the
    // child asks for and the child's role fits the one-hour cap on roles from temporary creds.
    const childDuration = child.durationSeconds ?? deps.settings.roleTtl ?? 3600;
    const shared = child.mfaSerial !== undefined && child.mfaSerial === profile.mfaSerial;
    if (!shared) return base;
    if (childDuration > CHAINED_ROLE_LIMIT) {
      log.debug(
        `profile ${child.name}: role lasts ${childDuration} s > 1h, assuming it straight from ${profile.name}'s key`,
      );
      return base;
    }
  }
  const sessionDuration = (isTarget ? options.durationSeconds : undefined) ??
    deps.settings.sessionTtl ??
    (isTarget ? 3600 : 43200);
  const session = new SessionTokenProvider({
    profile: profile.name,
    source: base.provider,
    sts: deps.stsFor(profile),
    durationSeconds: sessionDuration,
    mfaSerial: profile.mfaSerial,
    mfaProcess: profile.mfaProcess,
    mfa: deps.mfa,
  });
  return {
    provider: cached(session, "sts.GetSessionToken", profile.name, profile.mfaSerial ?? "", deps),
    longTerm: false,
    mfaProved: profile.mfaSerial,
  };
}

/** Where a profile's own credentials come from, before any role or session is layered on. */
function baseLink(
  profile: ProfileConfig,
  deps: ChainDeps,
  options: ChainOptions,
  chain: string[],
): Link {
  if (deps.storedItems.has(profile.name)) {
    return { provider: new KeychainKeyProvider(deps.keychain, profile.name), longTerm: true };
  }
  if (profile.sourceProfile !== undefined) {
    return build(profile.sourceProfile, profile, deps, options, chain);
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
  type: "sts.AssumeRole" | "sts.GetSessionToken" | "credential_process",
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
