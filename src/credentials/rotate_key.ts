/**
 * Key rotation (`vaultsh rotate`): replace the stored long-term access key through IAM
 * (aws-vault's rotate): create a new key, store it, check that it works, delete the old one, and
 * drop every cached session made from the old one. At every failure a working key stays stored.
 * Which credentials call IAM: rotate_caller.ts.
 */
import type { App } from "../app.ts";
import { parseArn } from "../aws/arn.ts";
import type { AwsConfig } from "../aws/aws_config.ts";
import { createIam, type Iam, iamEndpointFor, IamError, maskKeyId } from "../aws/iam.ts";
import type { ProfileConfig } from "../aws/profile_config.ts";
import { type CallerIdentity, createSts, type Sts } from "../aws/sts.ts";
import { stsEndpointFor } from "../aws/sts_endpoint.ts";
import { clearKeySessions } from "./clear_key_sessions.ts";
import { type IamCaller, iamCaller, type RotateOptions } from "./rotate_caller.ts";

export type { RotateOptions };
import type { Credentials } from "../aws/credentials.ts";
import { fromStored, toStored } from "./credentials.ts";
import { errorMessage, VaultshError } from "../errors.ts";
import type { Keychain } from "../keychain/keychain.ts";
import * as log from "../log.ts";
import { nonEmpty } from "../settings.ts";
import { formatDuration } from "../util/duration.ts";

/** IAM usually accepts a new key within a few seconds; aws-vault waits up to 20 s to delete. */
const DEFAULT_WAIT_SECONDS = 30;
const POLL_MS = 2_000;

export async function rotateKey(
  app: App,
  profileName: string,
  options: RotateOptions,
): Promise<void> {
  const config = await app.config();
  const keychain = await app.keychain();
  const stored = new Set(await keychain.list());
  const target = config.resolve(profileName, {
    allowMissing: stored.has(profileName),
    storedKeys: stored,
  });
  const master = findMaster(target, stored, config);
  const what = `rotate "${master.name}"`;
  const oldKey = await readKey(keychain, master.name);
  const oldJson = JSON.stringify(toStored(oldKey));
  const waitMs = (options.waitSeconds ?? DEFAULT_WAIT_SECONDS) * 1000;

  const sts = createSts(stsEndpointFor(master), `profile "${master.name}"`);
  log.info(`checking the stored key ${maskKeyId(oldKey.accessKeyId)} of "${master.name}"…`);
  const identity = await whoOwns(sts, oldKey, master.name);
  const user = iamUserName(identity, master.name);

  const caller = await iamCaller(app, config, {
    target,
    master,
    stored,
    keychain,
    oldKey,
    identity,
    userName: user,
    options,
  });
  const iamProfile = caller.userName === undefined ? master : target;
  const iam = createIam(
    iamEndpointFor(iamProfile.region, app.settings.env, fileEndpointUrl(app, config, iamProfile)),
    what,
  );
  const shownOld = maskKeyId(oldKey.accessKeyId);
  log.info(
    `rotating ${shownOld} of IAM user "${user}" (stored for "${master.name}"), calling IAM ` +
      `with ${caller.via}…`,
  );

  const created = await createKey(iam, caller, oldKey, user, what);
  const newKey: Credentials = {
    accessKeyId: created.accessKeyId,
    secretAccessKey: created.secretAccessKey,
  };
  const shownNew = maskKeyId(newKey.accessKeyId);
  log.info(`created the new access key ${shownNew}`);

  // From here on an interruption could lose the only copy of the new secret: finish first.
  const holdOn = () => log.warn("finishing the key rotation first; it takes a few more seconds");
  Deno.addSignalListener("SIGINT", holdOn);
  try {
    try {
      await keychain.set(master.name, JSON.stringify(toStored(newKey)));
    } catch (error) {
      const gone = await deleteQuietly(iam, caller, newKey.accessKeyId);
      throw new VaultshError(
        what,
        `cannot store the new key in the ${keychain.backend} keychain (${errorMessage(error)}); ` +
          (gone
            ? `the new key was deleted at AWS and ${shownOld} stays stored`
            : `${shownOld} stays stored, and ${shownNew} must be deleted by hand`),
        { hint: deleteByHandHint(user), cause: error },
      );
    }
    log.info(
      `stored ${shownNew} in the ${keychain.backend} keychain; waiting for IAM to accept it…`,
    );

    const verified = await verifyKey(sts, newKey, identity.arn, waitMs);
    if (verified !== undefined) {
      await rollBack(keychain, master.name, oldJson, iam, caller, newKey, {
        what,
        why: `the new key ${shownNew} did not work within ${formatDuration(waitMs / 1000)} ` +
          `(${verified})`,
        user,
        shownOld,
        shownNew,
      });
    }
    log.info(`${shownNew} works`);

    log.info(`deleting the old access key ${shownOld}…`);
    const deleteFailure = await deleteOldKey(iam, caller, oldKey.accessKeyId, waitMs);
    const { cleared, warning } = await clearKeySessions(keychain, () => app.config(), master.name);
    if (cleared > 0) {
      log.info(
        `cleared ${cleared} cached session${cleared === 1 ? "" : "s"} made with the old key`,
      );
    }
    if (warning !== undefined) log.warn(warning);
    if (deleteFailure !== undefined) {
      throw new VaultshError(
        what,
        `${shownNew} is stored and works, but deleting the old key ${shownOld} failed ` +
          `(${deleteFailure}): the old key still works and must be deleted by hand`,
        { hint: deleteByHandHint(user, oldKey.accessKeyId) },
      );
    }
    log.info(`rotated the key of "${master.name}": ${shownOld} -> ${shownNew}`);
  } finally {
    Deno.removeSignalListener("SIGINT", holdOn);
  }
}

/** Walks `source_profile` from the named profile to the first one whose key is stored. */
function findMaster(
  target: ProfileConfig,
  stored: ReadonlySet<string>,
  config: AwsConfig,
): ProfileConfig {
  let root = target;
  for (
    let link: ProfileConfig | undefined = target;
    link !== undefined;
    link = link.sourceProfile
  ) {
    if (stored.has(link.name)) return link;
    root = link;
  }
  const inFile = config.credentialsFileKeys(root.name) !== undefined;
  throw new VaultshError(
    `profile "${target.name}"`,
    target === root
      ? "no access key is stored for it"
      : `no access key is stored for it or its source_profile chain (ending at "${root.name}")`,
    {
      hint: inFile
        ? `"${root.name}" has its key in ${config.credentialsFile}: move it into the keychain with ` +
          `vaultsh add ${root.name}, then rotate`
        : `store the key first: vaultsh add ${root.name}`,
    },
  );
}

async function readKey(keychain: Keychain, name: string): Promise<Credentials> {
  const value = await keychain.get(name);
  const key = value === null ? undefined : fromStored(value);
  if (key === undefined || key.sessionToken !== undefined) {
    throw new VaultshError(
      `profile "${name}"`,
      value === null
        ? `no access key stored in the ${keychain.backend} keychain`
        : "the stored item is not a long-term access key",
      { hint: `store the key again with: vaultsh add ${name}` },
    );
  }
  return key;
}

/** GetCallerIdentity with the old key: proves it works and names its IAM user. */
async function whoOwns(sts: Sts, key: Credentials, name: string): Promise<CallerIdentity> {
  try {
    return await sts.getCallerIdentity(key);
  } catch (error) {
    const why = error instanceof VaultshError ? error.why : errorMessage(error);
    throw new VaultshError(
      `rotate "${name}"`,
      `the stored key ${maskKeyId(key.accessKeyId)} does not work (${why}); nothing changed`,
      { hint: `if the key was replaced elsewhere, store the current one: vaultsh add ${name}` },
    );
  }
}

/** The IAM user name from `arn:aws:iam::<account>:user/<path/>name`. */
function iamUserName(identity: CallerIdentity, name: string): string {
  const resource = parseArn(identity.arn)?.resource ?? "";
  if (!resource.startsWith("user/")) {
    throw new VaultshError(
      `rotate "${name}"`,
      `the stored key belongs to ${identity.arn}, not to an IAM user; nothing changed`,
      { hint: "vaultsh rotates IAM user access keys only" },
    );
  }
  return resource.slice(resource.lastIndexOf("/") + 1);
}

/** The profile's `endpoint_url` as the config file says, not the STS override from the env. */
function fileEndpointUrl(app: App, config: AwsConfig, profile: ProfileConfig): string | undefined {
  if (nonEmpty(app.settings.env.AWS_ENDPOINT_URL_STS) === undefined) return profile.endpointUrl;
  return config.sectionKeys(profile.name)?.endpoint_url;
}

async function createKey(
  iam: Iam,
  caller: IamCaller,
  oldKey: Credentials,
  user: string,
  what: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  log.info("creating a new access key…");
  try {
    return await iam.createAccessKey(caller.credentials, caller.userName);
  } catch (error) {
    const why = error instanceof VaultshError ? error.why : errorMessage(error);
    if (error instanceof IamError && error.code === "LimitExceeded") {
      const others = await otherKeys(iam, caller, oldKey.accessKeyId);
      throw new VaultshError(
        what,
        `IAM user "${user}" already has two access keys (${maskKeyId(oldKey.accessKeyId)}, ` +
          `stored here${
            others === "" ? "" : `, and ${others}`
          }), the most IAM allows; nothing changed`,
        {
          hint: `if nothing uses the other key, delete it (IAM console > Users > ${user} > ` +
            "Security credentials), then run vaultsh rotate again",
          cause: error,
        },
      );
    }
    throw new VaultshError(what, `creating a new access key failed (${why}); nothing changed`, {
      cause: error,
      ...(error instanceof VaultshError && error.hint !== undefined ? { hint: error.hint } : {}),
    });
  }
}

/** The user's other keys, masked, for the two-keys message; "" when IAM will not list them. */
async function otherKeys(iam: Iam, caller: IamCaller, oldKeyId: string): Promise<string> {
  try {
    const keys = await iam.listAccessKeys(caller.credentials, caller.userName);
    return keys.filter((key) => key.accessKeyId !== oldKeyId)
      .map((key) => `${maskKeyId(key.accessKeyId)} (${key.status.toLowerCase() || "unknown"})`)
      .join(", ");
  } catch (error) {
    log.debug(`listing the user's access keys failed: ${errorMessage(error)}`);
    return "";
  }
}

/**
 * GetCallerIdentity with the new key until it answers for the same user, or `waitMs` passed.
 * Returns undefined when it works, else why not.
 */
async function verifyKey(
  sts: Sts,
  key: Credentials,
  expectedArn: string,
  waitMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  let attempts = 0;
  let last = "";
  while (true) {
    attempts++;
    try {
      const identity = await sts.getCallerIdentity(key);
      if (identity.arn === expectedArn) return undefined;
      // a key of someone else: waiting will not change that
      return `it authenticates as ${identity.arn}, not ${expectedArn}`;
    } catch (error) {
      last = error instanceof VaultshError ? error.why : errorMessage(error);
      log.debug(`new key not accepted yet (attempt ${attempts}): ${last}`);
    }
    const left = deadline - Date.now();
    if (left <= 0) return `${attempts} attempt${attempts === 1 ? "" : "s"}, last: ${last}`;
    await sleep(Math.min(POLL_MS, left));
  }
}

/** Puts the old key back and deletes the new one at AWS; always throws. */
async function rollBack(
  keychain: Keychain,
  name: string,
  oldJson: string,
  iam: Iam,
  caller: IamCaller,
  newKey: Credentials,
  message: { what: string; why: string; user: string; shownOld: string; shownNew: string },
): Promise<never> {
  const { what, why, user, shownOld, shownNew } = message;
  let restored = true;
  try {
    await keychain.set(name, oldJson);
  } catch (error) {
    restored = false;
    log.debug(`restoring the old key failed: ${errorMessage(error)}`);
  }
  const gone = await deleteQuietly(iam, caller, newKey.accessKeyId);
  if (!restored) {
    // the keychain refused a write it accepted seconds ago: say exactly what is where
    throw new VaultshError(
      what,
      `${why}, and putting ${shownOld} back into the keychain failed: the keychain holds ` +
        `${shownNew}${gone ? ", which was deleted at AWS" : ""}`,
      { hint: `store the old key again with vaultsh add ${name}` },
    );
  }
  throw new VaultshError(
    what,
    `${why}; ${shownOld} stays stored and works` +
      (gone ? `, and ${shownNew} was deleted at AWS` : `; delete ${shownNew} by hand`),
    {
      hint: gone
        ? "IAM may be slow right now: try again later, or with a longer --wait"
        : deleteByHandHint(user),
    },
  );
}

/** Best-effort delete of a key vaultsh just created; true when it is gone. */
async function deleteQuietly(iam: Iam, caller: IamCaller, accessKeyId: string): Promise<boolean> {
  try {
    await iam.deleteAccessKey(caller.credentials, accessKeyId, caller.userName);
    return true;
  } catch (error) {
    log.debug(`deleting ${maskKeyId(accessKeyId)} failed: ${errorMessage(error)}`);
    return error instanceof IamError && error.code === "NoSuchEntity";
  }
}

/** DeleteAccessKey, retried until `waitMs` passed; undefined when the key is gone. */
async function deleteOldKey(
  iam: Iam,
  caller: IamCaller,
  accessKeyId: string,
  waitMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  while (true) {
    try {
      await iam.deleteAccessKey(caller.credentials, accessKeyId, caller.userName);
      return undefined;
    } catch (error) {
      if (error instanceof IamError && error.code === "NoSuchEntity") {
        log.info(`${maskKeyId(accessKeyId)} was already deleted`);
        return undefined;
      }
      const why = error instanceof VaultshError ? error.why : errorMessage(error);
      const left = deadline - Date.now();
      if (left <= 0) return why;
      log.debug(`deleting the old key failed, retrying: ${why}`);
      await sleep(Math.min(POLL_MS, left));
    }
  }
}

function deleteByHandHint(user: string, accessKeyId?: string): string {
  const key = accessKeyId === undefined ? "the key" : `the key ending in ${accessKeyId.slice(-4)}`;
  return `delete ${key} in the IAM console (Users > ${user} > Security credentials)`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
