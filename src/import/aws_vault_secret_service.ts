/**
 * aws-vault's `secret-service` backend (99designs/keyring secretservice.go): a
 * collection of its own (`awsvault`, or AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME) whose items
 * carry only the attribute `profile = <key>` (label = key), the secret being the keyring Item's
 * JSON. That collection has its own password and is usually locked after a login: reading it
 * then needs the desktop's unlock prompt, and without one it is a clear error, never "no keys".
 */
import type { Credentials } from "../aws/credentials.ts";
import { errorMessage, VaultshError } from "../errors.ts";
import { KeychainError } from "../keychain/keychain.ts";
import * as log from "../log.ts";
import { type AwsVaultRead, isAwsVaultSessionName, parseAwsVaultItem } from "./aws_vault_item.ts";
import { listCollection } from "../keychain/secret_service_collection.ts";

/**
 * Reads the long-term keys of the collection (only `wanted` ones when given); null when no
 * Secret Service answers, or it has no such collection and no key was asked for by name.
 */
export async function readAwsVaultSecretService(
  collection: string,
  wanted: ReadonlySet<string> | undefined,
): Promise<AwsVaultRead | null> {
  const { SecretServiceKeychain } = await import("../keychain/secret_service_keychain.ts");
  if (!await SecretServiceKeychain.probe()) return null;
  const source = `aws-vault's secret-service keyring (collection ${collection})`;
  let listing;
  try {
    listing = await listCollection(collection);
  } catch (error) {
    // no GIO to list with: a search by attribute still finds keys asked for by name
    log.debug(`listing the ${collection} collection failed: ${errorMessage(error)}`);
    listing = null;
  }
  let names: string[];
  if (listing !== null) {
    names = [...new Set(listing.items.map((item) => item.attributes.profile ?? item.label))];
    if (listing.locked && names.length > 0) {
      log.info(`the "${collection}" keyring is locked: unlock it in the prompt, if one shows…`);
    }
  } else if (wanted !== undefined) {
    // not at the usual path (another Secret Service?): a search by attribute may still find them
    names = [...wanted];
  } else {
    return null;
  }

  const keychain = new SecretServiceKeychain();
  const keys = new Map<string, Credentials>();
  const skipped: { name: string; why: string }[] = [];
  let sessions = 0;
  for (const name of names.sort()) {
    if (isAwsVaultSessionName(name)) {
      sessions++;
      continue;
    }
    if (wanted !== undefined && !wanted.has(name)) continue;
    let found;
    try {
      found = await keychain.searchForeign({ profile: name });
    } catch (error) {
      throw readFailure(error, source, collection);
    }
    // other applications may use a `profile` attribute too: take the item that is aws-vault's
    let why: string | undefined;
    for (const item of found) {
      const parsed = parseAwsVaultItem(item.secret, name);
      if (parsed.kind === "key") {
        keys.set(name, parsed.credentials);
        why = undefined;
        break;
      }
      why ??= parsed.why;
    }
    if (why !== undefined) skipped.push({ name, why });
  }
  return { source, keys, skipped, sessions };
}

function readFailure(error: unknown, source: string, collection: string): VaultshError {
  if (error instanceof KeychainError && error.failure === "locked") {
    return new VaultshError(
      source,
      "it is locked and cannot be unlocked here (no unlock prompt could be shown)",
      {
        hint: `unlock the "${collection}" keyring with your desktop's keyring manager (seahorse: ` +
          `right-click it > Unlock), or with secret-tool search --unlock profile <name> in a ` +
          "desktop session, then run this again",
        cause: error,
      },
    );
  }
  return new VaultshError(source, `cannot read it: ${errorMessage(error)}`, { cause: error });
}
