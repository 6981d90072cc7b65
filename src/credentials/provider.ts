import type { Credentials } from "../aws/credentials.ts";

/** Anything that produces credentials. Providers are named after the STS call they wrap. */
export interface CredentialsProvider {
  retrieve(): Promise<Credentials>;
}
