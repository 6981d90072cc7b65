/** Keys a profile keeps in the shared credentials file (read only; `doctor` warns about them). */
import type { Credentials } from "../aws/credentials.ts";
import { checkCredentials } from "./credentials.ts";
import type { CredentialsProvider } from "./provider.ts";

export class CredentialsFileProvider implements CredentialsProvider {
  constructor(private readonly credentials: Credentials, private readonly profile: string) {}

  retrieve(): Promise<Credentials> {
    checkCredentials(this.credentials, `profile "${this.profile}"`);
    return Promise.resolve(this.credentials);
  }
}
