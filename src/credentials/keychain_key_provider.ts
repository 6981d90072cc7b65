/** The long-term access key stored in the keychain under a profile's name. */
import { VaultshError } from "../errors.ts";
import type { Keychain } from "../keychain/keychain.ts";
import type { Credentials } from "../aws/credentials.ts";
import { checkCredentials, fromStored } from "./credentials.ts";
import type { CredentialsProvider } from "./provider.ts";

export class KeychainKeyProvider implements CredentialsProvider {
  constructor(private readonly keychain: Keychain, private readonly profile: string) {}

  async retrieve(): Promise<Credentials> {
    const value = await this.keychain.get(this.profile);
    if (value === null) {
      throw new VaultshError(
        `profile "${this.profile}"`,
        `no access key stored in the ${this.keychain.backend} keychain`,
        {
          hint: `store one with: vaultsh add ${this.profile}`,
        },
      );
    }
    const credentials = fromStored(value);
    if (credentials === undefined) {
      throw new VaultshError(`profile "${this.profile}"`, "the stored item is not an access key", {
        hint: `store the key again with: vaultsh add ${this.profile}`,
      });
    }
    checkCredentials(credentials, `profile "${this.profile}"`);
    return credentials;
  }
}
