/**
 * `vaultsh lock`: forget what the memory-only fast layer (the kernel keyring) holds for this
 * HOME's stores: cached temporary credentials and the file backend's unlocked data key. The
 * keychains keep everything; the next command reads them again (and the file backend asks for
 * its passphrase). Other HOMEs' vaultsh (a second account, a test sandbox) keep their cache.
 */
import { forgetStores } from "../keychain/fast_store.ts";
import { fastCacheIdentities } from "../keychain/open_keychain.ts";
import * as log from "../log.ts";
import { loadSettings } from "../settings.ts";

export function lockCommand(): void {
  const forgotten = forgetStores(fastCacheIdentities(loadSettings()));
  if (typeof forgotten !== "number") {
    log.info(`nothing to forget: ${forgotten.unavailable}`);
    return;
  }
  log.info(
    `locked: forgot ${forgotten} fast-cache entr${forgotten === 1 ? "y" : "ies"}; ` +
      "the next command reads the keychain",
  );
}
