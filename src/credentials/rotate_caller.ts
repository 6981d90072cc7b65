/**
 * Which credentials call IAM for `vaultsh rotate` (MFA-protected IAM policies need an MFA
 * session, and IAM refuses session credentials made without MFA):
 * - `--no-session`: the stored key itself;
 * - a role profile in the key's own account: that role's credentials, with the user's name;
 * - otherwise an MFA session of the key's profile (the cached one when there is one, so a code
 *   typed for `vaultsh use` today serves here too), with the `mfa_serial` of the key's profile or,
 *   failing that, the first one along the chain from the named profile;
 * - no `mfa_serial` anywhere: the stored key itself.
 * A role in another account cannot manage the user, so it is skipped for the MFA session.
 */
import type { App } from "../app.ts";
import { parseRoleArn } from "../aws/arn.ts";
import type { AwsConfig } from "../aws/aws_config.ts";
import type { Credentials } from "../aws/credentials.ts";
import type { ProfileConfig } from "../aws/profile_config.ts";
import { type CallerIdentity, createSts } from "../aws/sts.ts";
import { stsEndpointFor } from "../aws/sts_endpoint.ts";
import type { Keychain } from "../keychain/keychain.ts";
import * as log from "../log.ts";
import { type ChainDeps, providerFor } from "./credential_chain.ts";
import { mfaCodeSource } from "./mfa.ts";
import { mfaSpender } from "./mfa_spender.ts";

export interface RotateOptions {
  /** `--no-session`: call IAM with the stored key itself. */
  readonly noSession?: boolean | undefined;
  readonly mfaToken?: string | undefined;
  readonly backend?: string | undefined;
  /** `--wait`: seconds to wait for the new key to work, and again for deleting the old one. */
  readonly waitSeconds?: number | undefined;
}

/** What calls IAM, and for which user. */
export interface IamCaller {
  readonly credentials: Credentials;
  /** IAM's UserName parameter: needed with role credentials, else the caller's own user. */
  readonly userName: string | undefined;
  /** For the status line: "an MFA session of ...", "the key itself", ... */
  readonly via: string;
}

export async function iamCaller(
  app: App,
  config: AwsConfig,
  context: {
    target: ProfileConfig;
    master: ProfileConfig;
    stored: ReadonlySet<string>;
    keychain: Keychain;
    oldKey: Credentials;
    identity: CallerIdentity;
    userName: string;
    options: RotateOptions;
  },
): Promise<IamCaller> {
  const { target, master, stored, keychain, oldKey, identity, userName, options } = context;
  if (options.noSession === true) {
    return { credentials: oldKey, userName: undefined, via: "the key itself" };
  }
  const deps: ChainDeps = {
    keychain,
    settings: app.settings,
    storedItems: stored,
    credentialsFileKeys: (name) => config.credentialsFileKeys(name),
    stsFor: (link) => createSts(stsEndpointFor(link), `profile "${link.name}"`),
    mfa: mfaSpender({
      codes: mfaCodeSource({ token: options.mfaToken, interactive: true, env: app.settings.env }),
      lockDir: `${app.settings.runtimeDir}/locks`,
      lockTimeoutMs: app.settings.lockTimeout * 1000,
    }),
    now: () => new Date(),
  };

  if (target !== master && target.roleArn !== undefined) {
    const roleAccount = parseRoleArn(target.roleArn)?.accountId;
    if (roleAccount === identity.account) {
      const credentials = await providerFor(target, deps).retrieve();
      return { credentials, userName, via: `role credentials of "${target.name}"` };
    }
    log.info(
      `"${target.name}" is a role in account ${roleAccount}, which cannot manage a user of ` +
        `account ${identity.account}: using "${master.name}"'s own credentials for IAM`,
    );
  }

  const serialFrom = mfaSerialProfile(target, master);
  if (serialFrom?.mfaSerial === undefined) {
    log.info(
      `no mfa_serial for "${master.name}": IAM refuses session credentials made without MFA, ` +
        "so the stored key itself calls IAM",
    );
    return { credentials: oldKey, userName: undefined, via: "the key itself" };
  }
  // the key's own profile, with no role and the serial found: the chain makes (or reuses) the
  // cached MFA session of that key and serial
  const sessionProfile: ProfileConfig = {
    name: master.name,
    inConfig: master.inConfig,
    mfaSerial: serialFrom.mfaSerial,
    ...(serialFrom.mfaProcess === undefined ? {} : { mfaProcess: serialFrom.mfaProcess }),
    ...(master.region === undefined ? {} : { region: master.region }),
    ...(master.sessionDurationSeconds === undefined
      ? {}
      : { sessionDurationSeconds: master.sessionDurationSeconds }),
    ...(master.endpointUrl === undefined ? {} : { endpointUrl: master.endpointUrl }),
    ...(master.stsRegionalEndpoints === undefined
      ? {}
      : { stsRegionalEndpoints: master.stsRegionalEndpoints }),
  };
  const credentials = await providerFor(sessionProfile, deps).retrieve();
  return { credentials, userName: undefined, via: `an MFA session of "${master.name}"` };
}

/** The key's own `mfa_serial`, else the first one on the chain from the named profile to it. */
function mfaSerialProfile(target: ProfileConfig, master: ProfileConfig): ProfileConfig | undefined {
  if (master.mfaSerial !== undefined) return master;
  for (let link = target; link !== master; link = link.sourceProfile!) {
    if (link.mfaSerial !== undefined) return link;
  }
  return undefined;
}
