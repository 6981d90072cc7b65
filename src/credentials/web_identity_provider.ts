/**
 * STS AssumeRoleWithWebIdentity: a role assumed with an OpenID Connect token (from
 * `web_identity_token_file` or aws-vault's `web_identity_token_process`) instead of AWS keys.
 */
import type { Credentials } from "../aws/credentials.ts";
import type { Sts } from "../aws/sts.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { ioFailure } from "../util/io_failure.ts";
import { runShellCommand } from "../util/shell_command.ts";
import type { CredentialsProvider } from "./provider.ts";

export interface WebIdentityOptions {
  readonly profile: string;
  readonly sts: Sts;
  readonly token:
    | { readonly file: string }
    | { readonly process: string; readonly env: Record<string, string> };
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds: number;
}

export class WebIdentityProvider implements CredentialsProvider {
  constructor(private readonly options: WebIdentityOptions) {}

  async retrieve(): Promise<Credentials> {
    const { profile, sts, roleArn, roleSessionName, durationSeconds } = this.options;
    const webIdentityToken = await this.#token();
    log.info(`assuming ${roleArn} with a web identity token for ${profile}…`);
    return sts.assumeRoleWithWebIdentity({
      roleArn,
      roleSessionName,
      durationSeconds,
      webIdentityToken,
    });
  }

  /** The token, without the line break a file or a command usually ends it with. */
  async #token(): Promise<string> {
    const { profile, token } = this.options;
    let text: string;
    if ("file" in token) {
      try {
        text = await Deno.readTextFile(token.file);
      } catch (error) {
        throw new VaultshError(
          `profile "${profile}"`,
          `cannot read web_identity_token_file ${token.file}: ${ioFailure(error)}`,
          { cause: error },
        );
      }
    } else {
      text = await runShellCommand(token.process, token.env, profile, "web_identity_token_process");
    }
    const trimmed = text.trim();
    if (trimmed === "") {
      const source = "file" in token ? "web_identity_token_file" : "web_identity_token_process";
      throw new VaultshError(`profile "${profile}"`, `${source} gave an empty token`);
    }
    return trimmed;
  }
}
