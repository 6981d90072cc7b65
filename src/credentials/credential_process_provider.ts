/** A profile's `credential_process`: a command printing the `Version: 1` JSON on stdout. */
import { VaultshError } from "../errors.ts";
import { runShellCommand } from "../util/shell_command.ts";
import type { Credentials } from "../aws/credentials.ts";
import { checkCredentials } from "./credentials.ts";
import type { CredentialsProvider } from "./provider.ts";

export class CredentialProcessProvider implements CredentialsProvider {
  constructor(
    private readonly profile: string,
    private readonly command: string,
    private readonly env: Readonly<Record<string, string>>,
  ) {}

  async retrieve(): Promise<Credentials> {
    const what = `profile "${this.profile}"`;
    const stdout = await runShellCommand(
      this.command,
      this.env,
      this.profile,
      "credential_process",
    );
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch {
      throw new VaultshError(what, "credential_process did not print JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new VaultshError(
        what,
        `credential_process printed ${shape(parsed)}, not a JSON object`,
      );
    }
    return this.#credentials(parsed as Record<string, unknown>, what);
  }

  #credentials(parsed: Record<string, unknown>, what: string): Credentials {
    if (parsed.Version !== 1) {
      throw new VaultshError(
        what,
        `credential_process printed Version ${JSON.stringify(parsed.Version)}, expected 1`,
      );
    }
    const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = parsed;
    if (
      typeof AccessKeyId !== "string" || typeof SecretAccessKey !== "string" ||
      AccessKeyId === "" || SecretAccessKey === ""
    ) {
      throw new VaultshError(
        what,
        "credential_process output lacks AccessKeyId or SecretAccessKey",
      );
    }
    let expiration: Date | undefined;
    if (Expiration !== undefined) {
      expiration = new Date(String(Expiration));
      if (Number.isNaN(expiration.getTime())) {
        throw new VaultshError(
          what,
          `credential_process printed an invalid Expiration ${JSON.stringify(Expiration)}`,
        );
      }
      // as the AWS SDKs do: a cache must never hold credentials that are already dead
      if (expiration.getTime() <= Date.now()) {
        throw new VaultshError(
          what,
          `credential_process printed credentials that expired at ${expiration.toISOString()}`,
        );
      }
    }
    const credentials = {
      accessKeyId: AccessKeyId,
      secretAccessKey: SecretAccessKey,
      ...(typeof SessionToken === "string" && SessionToken !== ""
        ? { sessionToken: SessionToken }
        : {}),
      ...(expiration === undefined ? {} : { expiration }),
    };
    // before the cache sees them
    checkCredentials(credentials, what);
    return credentials;
  }
}

/** What a JSON value is, for a message: `null`, `an array`, `a number`. */
function shape(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
