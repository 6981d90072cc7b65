/**
 * `vaultsh lock`: forget the memory-only fast layer (the kernel keyring) for every store: cached
 * temporary credentials and the file backend's unlocked data key. The keychains keep everything;
 * the next command reads them again (and the file backend asks for its passphrase).
 */
import { forgetEverything } from "../keychain/fast_store.ts";
import * as log from "../log.ts";

export function lockCommand(): void {
  const forgotten = forgetEverything();
  if (typeof forgotten !== "number") {
    log.info(`nothing to forget: ${forgotten.unavailable}`);
    return;
  }
  log.info(
    `locked: forgot ${forgotten} fast-cache entr${forgotten === 1 ? "y" : "ies"}; ` +
      "the next command reads the keychain",
  );
}
