/**
 * Runs a command the user configured (`mfa_process`, `credential_process`,
 * `web_identity_token_process`) the way aws-vault and the AWS SDKs do: `/bin/sh -c`, stdin
 * closed, stderr on the user's terminal (for prompts such as "touch your YubiKey"), stdout
 * captured. Failures are one line naming the profile and the key.
 */
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";

export async function runShellCommand(
  command: string,
  env: Record<string, string>,
  profile: string,
  key: "mfa_process" | "credential_process" | "web_identity_token_process",
): Promise<string> {
  log.debug(`profile ${profile}: running ${key}`);
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("/bin/sh", {
      args: ["-c", command],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output();
  } catch (error) {
    throw new VaultshError(`profile "${profile}"`, `cannot run ${key}`, { cause: error });
  }
  if (!output.success) {
    throw new VaultshError(`profile "${profile}"`, `${key} exited with status ${output.code}`);
  }
  return new TextDecoder().decode(output.stdout);
}
