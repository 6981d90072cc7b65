/**
 * `vaultsh sso populate SESSION [--dry-run]`: a `[profile ...]` section for every account and role
 * the signed-in user is assigned (ListAccounts, ListAccountRoles) that no profile covers yet,
 * appended to the AWS config: existing bytes untouched, the file replaced atomically, a second
 * run adds nothing. `--dry-run` prints the sections instead.
 */
import { App } from "../app.ts";
import { AwsCallError } from "../aws/aws_call_error.ts";
import { writeTarget } from "../aws/config_writer.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { appSsoDeps, type SignInOptions } from "../sso/app_sso_deps.ts";
import { listAssignments } from "../sso/list_assignments.ts";
import { planPopulate, type PopulateAccount } from "../sso/populate_plan.ts";
import { SsoTokenSource } from "../sso/sso_token_source.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { ioFailure } from "../util/io_failure.ts";
import { writeStdout } from "../util/stdout.ts";

export interface SsoPopulateOptions extends SignInOptions {
  readonly dryRun?: true | undefined;
  /** A `region` line for each new profile. */
  readonly region?: string | undefined;
  readonly backend?: string | undefined;
}

export async function ssoPopulateCommand(
  sessionName: string,
  options: SsoPopulateOptions,
): Promise<void> {
  const app = App.fromEnv(options);
  const config = await app.config();
  const session = config.ssoSessionConfig(sessionName);
  const deps = await appSsoDeps(app, options);
  const tokens = new SsoTokenSource(deps, session, `vaultsh sso login ${sessionName}`);
  const portal = deps.portal(session);
  let token = await tokens.accessToken({ interactive: true });
  log.info(`listing the accounts and roles of ${session.startUrl}…`);
  let accounts: PopulateAccount[];
  try {
    accounts = await listAssignments(portal, token.accessToken);
  } catch (error) {
    // signed out elsewhere: one more try with another token, as for role credentials
    if (!(error instanceof AwsCallError) || error.awsCode !== "UnauthorizedException") throw error;
    await tokens.refused(token);
    token = await tokens.accessToken({ interactive: true });
    accounts = await listAssignments(portal, token.accessToken);
  }

  const path = await writeTarget(config.configFile);
  const before = await readBytes(path, config.configShown);
  const text = new TextDecoder().decode(before);
  const plan = planPopulate({
    configText: text,
    sessionName,
    startUrl: session.startUrl,
    accounts,
    region: options.region,
  });
  const covered = plan.existing.length;
  const names = plan.added.map((profile) => profile.name).join(", ");
  if (plan.added.length === 0) {
    log.info(
      `every account and role of ${session.startUrl} has a profile already (${covered})`,
    );
    return;
  }
  const addition = plan.text.slice(text.length);
  if (options.dryRun === true) {
    writeStdout(addition);
    log.info(`would add ${plan.added.length} profile${plural(plan.added.length)}: ${names}`);
    return;
  }
  // the user's bytes as read, whatever they are, then the new sections
  const added = new TextEncoder().encode(addition);
  const content = new Uint8Array(before.length + added.length);
  content.set(before);
  content.set(added, before.length);
  const now = await readBytes(path, config.configShown);
  if (!sameBytes(now, before)) {
    throw new VaultshError(
      `config ${config.configShown}`,
      "it changed while the portal was asked; nothing was written",
      { hint: `run vaultsh sso populate ${sessionName} again` },
    );
  }
  try {
    await atomicWrite(path, content);
  } catch (error) {
    throw new VaultshError(`config ${config.configShown}`, `cannot write it: ${ioFailure(error)}`, {
      cause: error,
    });
  }
  log.info(
    `added ${plan.added.length} profile${
      plural(plan.added.length)
    } to ${config.configShown}: ${names}`,
  );
}

async function readBytes(path: string, shown: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return new Uint8Array();
    throw new VaultshError(`config ${shown}`, `cannot read it: ${ioFailure(error)}`, {
      cause: error,
    });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function plural(count: number): string {
  return count === 1 ? "" : "s";
}
