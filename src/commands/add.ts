/** `vaultsh add <profile> [--env] [--force]`: store a long-term access key in the keychain. */
import { App } from "../app.ts";
import { addProfileSection, validateProfileName } from "../aws/config_writer.ts";
import { toStored } from "../credentials/credentials.ts";
import { clearSessions } from "../credentials/clear_sessions.ts";
import { UsageError, VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { hasTerminal, prompt } from "../tty.ts";

export interface AddOptions {
  readonly env?: true | undefined;
  /** Replace a key already stored, without asking. */
  readonly force?: true | undefined;
  readonly backend?: string | undefined;
}

/** Long-term IAM user keys start with AKIA; ASIA keys are temporary and useless to store. */
const ACCESS_KEY_ID = /^AKIA[A-Z0-9]{12,124}$/;
const SECRET_ACCESS_KEY = /^[A-Za-z0-9/+=]{40}$/;

export async function addCommand(profile: string, options: AddOptions): Promise<void> {
  validateProfileName(profile);
  const app = App.fromEnv(options);
  const config = await app.config();
  const source = config.resolve(profile, { allowMissing: true }).sourceProfileName;
  if (source !== undefined) {
    throw new VaultshError(
      `profile "${profile}"`,
      `it takes its credentials from source_profile "${source}"`,
      { hint: `store the key on the source instead: vaultsh add ${source}` },
    );
  }

  // before the keys are typed: names are listed without unlocking anything; a keychain that
  // cannot even list (locked, no daemon) says so on the write below
  const keychain = await app.keychain();
  const replacing = await keychain.list().then((names) => names.includes(profile), () => false);
  if (replacing && options.force !== true) await confirmReplace(profile, keychain.backend);

  const { accessKeyId, secretAccessKey } = options.env === true
    ? keysFromEnv(app)
    : await keysFromTerminal(profile);
  checkKeys(accessKeyId, secretAccessKey, options.env === true ? "environment" : "input");

  await keychain.set(profile, JSON.stringify(toStored({ accessKeyId, secretAccessKey })));
  log.info(
    `${
      replacing ? "replaced" : "stored"
    } the access key for "${profile}" in the ${keychain.backend} keychain`,
  );

  // sessions made with a previous key would outlive it otherwise
  const cleared = await clearSessions(keychain, { profile });
  if (cleared > 0) log.info(`cleared ${cleared} cached session${cleared === 1 ? "" : "s"}`);

  if (await addProfileSection(config.configFile, profile)) {
    log.info(
      `added [${profile === "default" ? "default" : `profile ${profile}`}] to ${config.configFile}`,
    );
  }
}

/** A stored key is replaced only on purpose: --force, or a yes on the terminal. */
async function confirmReplace(profile: string, backend: string): Promise<void> {
  const what = `profile "${profile}"`;
  const hint = "pass --force to replace it (vaultsh rotate replaces it at AWS too)";
  if (!(await hasTerminal())) {
    throw new VaultshError(what, `a key is already stored in the ${backend} keychain`, { hint });
  }
  const answer = await prompt(`A key is already stored for "${profile}". Replace it? [y/N] `, {
    purpose: "add",
    hint,
  });
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new VaultshError("add", "not confirmed; the stored key is unchanged");
  }
}

function keysFromEnv(app: App): { accessKeyId: string; secretAccessKey: string } {
  const accessKeyId = app.settings.env.AWS_ACCESS_KEY_ID ?? "";
  const secretAccessKey = app.settings.env.AWS_SECRET_ACCESS_KEY ?? "";
  for (
    const [name, value] of [["AWS_ACCESS_KEY_ID", accessKeyId], [
      "AWS_SECRET_ACCESS_KEY",
      secretAccessKey,
    ]]
  ) {
    if (value === "") throw new UsageError("add --env", `${name} is not set`);
  }
  return { accessKeyId, secretAccessKey };
}

async function keysFromTerminal(
  profile: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const hint = "or pass the keys with --env (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)";
  const accessKeyId = (await prompt(`Access Key ID for ${profile}: `, { purpose: "add", hint }))
    .trim();
  const secretAccessKey =
    (await prompt("Secret Access Key: ", { secret: true, purpose: "add", hint })).trim();
  return { accessKeyId, secretAccessKey };
}

function checkKeys(accessKeyId: string, secretAccessKey: string, source: string): void {
  if (accessKeyId.startsWith("ASIA")) {
    throw new VaultshError(
      "access key id",
      "this is a temporary (ASIA...) key; add needs a long-term IAM user key (AKIA...)",
    );
  }
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw new VaultshError(
      "access key id",
      `the ${source} does not look like an IAM access key id (AKIA followed by 16 letters and digits)`,
    );
  }
  if (!SECRET_ACCESS_KEY.test(secretAccessKey)) {
    // never echo the secret itself, not even in an error
    throw new VaultshError(
      "secret access key",
      `the ${source} is not a 40-character secret access key (got ${secretAccessKey.length} characters)`,
    );
  }
}
