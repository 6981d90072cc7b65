/**
 * Which IAM Identity Center sign-in a `vaultsh sso` command means: an `[sso-session NAME]`, or a
 * profile that uses one (or carries a legacy `sso_start_url`), or, when nothing is named, every
 * sign-in the config uses.
 */
import type { AwsConfig } from "../aws/aws_config.ts";
import { sessionKey, type SsoSessionConfig, ssoSessionOf } from "../aws/sso_config.ts";
import { UsageError, VaultshError } from "../errors.ts";
import { didYouMean } from "../util/did_you_mean.ts";

export interface SignIn {
  readonly session: SsoSessionConfig;
  /** What `vaultsh sso login` takes for it: the sso-session's name, else a profile's. */
  readonly name: string;
}

/** The sign-in `name` means (an sso-session first, then a profile). */
export function findSignIn(config: AwsConfig, name: string): SignIn {
  if (config.ssoSessionNames().includes(name)) {
    return { session: config.ssoSessionConfig(name), name };
  }
  if (config.hasProfile(name)) {
    const session = ssoSessionOf(config.resolve(name));
    if (session === undefined) {
      throw new VaultshError(
        `profile "${name}"`,
        "it uses no IAM Identity Center sign-in (no sso_session or sso_start_url)",
      );
    }
    return { session, name: session.name ?? name };
  }
  const near = didYouMean(name, [...config.ssoSessionNames(), ...config.profileNames()]);
  throw new VaultshError(
    `sso-session "${name}"`,
    `no [sso-session ${name}] section or profile "${name}" in ${config.configShown}`,
    {
      hint: near === undefined
        ? "vaultsh sso login names an sso-session or a profile"
        : `did you mean "${near}"?`,
    },
  );
}

/** Every sign-in the config's sso-sessions and profiles name, each once, in file order. */
export function allSignIns(config: AwsConfig): SignIn[] {
  const found = new Map<string, SignIn>();
  const add = (signIn: SignIn) => {
    const key = `${sessionKey(signIn.session)}\n${signIn.session.startUrl}`;
    if (!found.has(key)) found.set(key, signIn);
  };
  for (const name of config.ssoSessionNames()) {
    try {
      add({ session: config.ssoSessionConfig(name), name });
    } catch {
      // an incomplete section is doctor's to report; nothing can sign in to it
    }
  }
  for (const name of config.profileNames()) {
    let session: SsoSessionConfig | undefined;
    try {
      session = ssoSessionOf(config.resolve(name));
    } catch {
      continue; // a broken profile says so where it is used
    }
    if (session !== undefined) add({ session, name: session.name ?? name });
  }
  return [...found.values()];
}

/** The one sign-in of the config, for commands run without a name. */
export function onlySignIn(config: AwsConfig, command: string): SignIn {
  const all = allSignIns(config);
  if (all.length === 1) return all[0]!;
  if (all.length === 0) {
    throw new VaultshError(
      command,
      `no IAM Identity Center sign-in in ${config.configShown}`,
      {
        hint:
          "add [sso-session NAME] with sso_start_url, sso_region and sso_registration_scopes = sso:account:access",
      },
    );
  }
  throw new UsageError(
    command,
    `${all.length} sign-ins are configured: name one`,
    `one of: ${all.map((signIn) => signIn.name).join(", ")}`,
  );
}
