/**
 * `vaultsh login <profile>`: an AWS console sign-in URL through the federation endpoint, as
 * aws-vault builds it.
 *
 * - A role profile signs in with the role's credentials (from the cache, or AssumeRole).
 * - An IAM user without a role: GetFederationToken refuses session credentials, so the stored
 *   long-term key is used as is (no GetSessionToken, aws-vault's behaviour), GetCallerIdentity
 *   names the user, and GetFederationToken with an allow-all session policy gives a federated
 *   session with exactly the user's own permissions.
 *
 * The sign-in token, and the URL carrying it, are bearer secrets: they go to stdout (--stdout, or
 * when there is no browser to open), or to the browser through a private redirect page (never
 * the opener's argv, which other local users can read), never to a log or an error message.
 */
import { App } from "../app.ts";
import {
  ALLOW_ALL_POLICY,
  consoleDestination,
  federationEndpoint,
  federationName,
  getSigninToken,
  partitionFor,
} from "../aws/console_signin.ts";
import { createSts } from "../aws/sts.ts";
import { stsEndpointFor } from "../aws/sts_endpoint.ts";
import { resolveCredentials, resolveProfile } from "../credentials/resolve_credentials.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { childEnv } from "../util/child_env.ts";
import { openInBrowser } from "../util/open_in_browser.ts";
import { writeStdout } from "../util/stdout.ts";
import type { CredentialFlags } from "../credentials/credential_flags.ts";

export interface LoginOptions extends CredentialFlags {
  /** Print the URL instead of opening a browser. */
  readonly stdout?: true | undefined;
  /** Console path, e.g. `s3/home`. */
  readonly path?: string | undefined;
}

export async function loginCommand(
  profileName: string,
  options: LoginOptions,
): Promise<void> {
  const app = App.fromEnv(options);
  const { profile } = await resolveProfile(app, { profile: profileName, region: options.region });
  // IAM Identity Center role credentials sign in as they are, like an assumed role's
  const isRole = profile.roleArn !== undefined || profile.sso !== undefined;
  const resolved = await resolveCredentials(app, {
    profile: profileName,
    region: options.region,
    mfaToken: options.mfaToken,
    // --duration is the role's lifetime here, or the federation token's below
    durationSeconds: isRole ? options.durationSeconds : undefined,
    // GetFederationToken accepts only the long-term key (aws-vault skips GetSessionToken too)
    noSession: isRole ? options.noSession : true,
    interactive: true,
  });
  let credentials = resolved.credentials;
  let arn = profile.roleArn;
  if (!isRole) {
    const sts = createSts(stsEndpointFor(resolved.profile), `profile "${profileName}"`);
    const identity = await sts.getCallerIdentity(credentials);
    arn = identity.arn;
    const name = federationName(identity.arn);
    if (name !== undefined) {
      if (credentials.sessionToken !== undefined) {
        throw new VaultshError(
          `profile "${profileName}"`,
          "console sign-in for an IAM user needs its long-term key, and these are session credentials",
          {
            hint: "GetFederationToken refuses session credentials: store the key with vaultsh add",
          },
        );
      }
      log.info(`getting a federation token for ${name}…`);
      credentials = await sts.getFederationToken(credentials, {
        name,
        durationSeconds: options.durationSeconds ?? 3600,
        policy: ALLOW_ALL_POLICY,
      });
    }
  }
  if (credentials.sessionToken === undefined) {
    throw new VaultshError(`profile "${profileName}"`, "no session credentials to sign in with");
  }

  const partition = partitionFor(arn, resolved.region);
  const federation = federationEndpoint(app.settings.env.VAULTSH_FEDERATION_URL, partition);
  const destination = consoleDestination(partition.console, resolved.region, options.path);
  log.info(`getting a console sign-in token from ${new URL(federation).host}…`);
  const signinToken = await getSigninToken(federation, credentials, profileName);
  const url = `${federation}?Action=login&Issuer=vaultsh&Destination=${
    encodeURIComponent(destination)
  }&SigninToken=${encodeURIComponent(signinToken)}`;

  if (options.stdout !== true) {
    const opened = await openInBrowser(url, {
      what: "the AWS console",
      pageDir: `${app.settings.runtimeDir}/login`,
      env: childEnv(app.settings.env),
    });
    if (opened === "opened") return;
    // aws-vault prints the URL when it cannot open a browser: it is what login is for
    log.info(
      "no browser to open it in; the sign-in URL follows (it signs anyone in: keep it to yourself)",
    );
  }
  writeStdout(url + "\n");
}
