/** The front door of the credential engine: profile name in, credentials out. */
import type { App } from "../app.ts";
import type { ProfileConfig } from "../aws/profile_config.ts";
import { createSts } from "../aws/sts.ts";
import { stsEndpointFor } from "../aws/sts_endpoint.ts";
import { providerFor } from "./credential_chain.ts";
import type { Credentials } from "../aws/credentials.ts";
import { checkCredentials } from "./credentials.ts";
import { mfaCodeSource } from "./mfa.ts";
import { mfaSpender } from "./mfa_spender.ts";

export interface CredentialRequest {
  readonly profile: string;
  readonly region?: string | undefined;
  readonly durationSeconds?: number | undefined;
  readonly noSession?: boolean | undefined;
  readonly mfaToken?: string | undefined;
  /** False inside shell hooks: never prompt, fail with MfaRequired instead. */
  readonly interactive: boolean;
  /**
   * A renewal nobody waits for (the prompt hook's): one STS attempt, so a hung endpoint costs
   * one timeout at a prompt; the hook tries again later.
   */
  readonly background?: boolean | undefined;
  readonly now?: () => Date;
}

export interface ResolvedCredentials {
  readonly profile: ProfileConfig;
  readonly credentials: Credentials;
  /** The region to export, when the profile or the flags name one. */
  readonly region: string | undefined;
}

/** Resolves a profile from the config (or a keychain-only name) into a provider chain. */
export async function resolveProfile(
  app: App,
  request: Pick<CredentialRequest, "profile" | "region" | "durationSeconds">,
): Promise<{ profile: ProfileConfig; storedItems: Set<string> }> {
  const config = await app.config();
  const keychain = await app.keychain();
  const storedItems = new Set(await keychain.list());
  const profile = config.resolve(request.profile, {
    ...(request.region === undefined ? {} : { region: request.region }),
    ...(request.durationSeconds === undefined ? {} : { durationSeconds: request.durationSeconds }),
    // a name with a stored key is a profile even without a config section (aws-vault does the same)
    allowMissing: storedItems.has(request.profile),
    storedKeys: storedItems,
  });
  return { profile, storedItems };
}

export async function resolveCredentials(
  app: App,
  request: CredentialRequest,
): Promise<ResolvedCredentials> {
  const { profile, storedItems } = await resolveProfile(app, request);
  const config = await app.config();
  const keychain = await app.keychain();
  const now = request.now ?? (() => new Date());
  const provider = providerFor(profile, {
    keychain,
    settings: app.settings,
    storedItems,
    credentialsFileKeys: (name) => config.credentialsFileKeys(name),
    stsFor: (link) =>
      createSts(
        stsEndpointFor(link),
        `profile "${link.name}"`,
        request.background === true ? { maxAttempts: 1 } : {},
      ),
    mfa: mfaSpender({
      codes: mfaCodeSource({
        token: request.mfaToken,
        interactive: request.interactive,
        env: app.settings.env,
      }),
      lockDir: `${app.settings.runtimeDir}/locks`,
      lockTimeoutMs: app.settings.lockTimeout * 1000,
    }),
    now,
    // the SSO modules load only when the cached role credentials are not enough
    sso: (ssoProfile) => ({
      retrieve: async () => {
        const { ssoRoleCredentials } = await import("../sso/sso_role_provider.ts");
        return await ssoRoleCredentials(app, ssoProfile, request.interactive);
      },
    }),
  }, { durationSeconds: request.durationSeconds, noSession: request.noSession });
  const credentials = await provider.retrieve();
  // whatever the source: what leaves here goes into env files, ini files and shells
  checkCredentials(credentials, `profile "${profile.name}"`);
  return { profile, credentials, region: profile.region };
}
