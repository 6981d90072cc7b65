/**
 * `vaultsh export <profile> [--format env|export-env|json|ini]`: print credentials for other
 * tools. Values hold no control character (checked at every source), so `env` and `ini` lines
 * cannot be split; `export-env` (aws-vault's name) single-quotes them for `eval` in sh, bash
 * and zsh.
 */
import { App } from "../app.ts";
import { rfc3339 } from "../credentials/credential_env.ts";
import { resolveCredentials } from "../credentials/resolve_credentials.ts";
import { UsageError } from "../errors.ts";
import { writeStdout } from "../util/stdout.ts";
import type { CredentialFlags } from "../credentials/credential_flags.ts";

export const EXPORT_FORMATS = ["env", "export-env", "json", "ini"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export async function exportCommand(
  profile: string,
  format: string,
  flags: CredentialFlags,
): Promise<void> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(
      "export --format",
      `"${format}" is not one of ${EXPORT_FORMATS.join(", ")}`,
    );
  }
  const app = App.fromEnv(flags);
  const { credentials, region } = await resolveCredentials(app, {
    ...flags,
    profile,
    interactive: true,
  });
  const expiration = credentials.expiration === undefined
    ? undefined
    : rfc3339(credentials.expiration);

  switch (format as ExportFormat) {
    case "env":
    case "export-env": {
      const variables: [string, string][] = [
        ["AWS_ACCESS_KEY_ID", credentials.accessKeyId],
        ["AWS_SECRET_ACCESS_KEY", credentials.secretAccessKey],
      ];
      if (credentials.sessionToken !== undefined) {
        variables.push(["AWS_SESSION_TOKEN", credentials.sessionToken]);
      }
      if (expiration !== undefined) variables.push(["AWS_CREDENTIAL_EXPIRATION", expiration]);
      if (region !== undefined) {
        variables.push(["AWS_REGION", region], ["AWS_DEFAULT_REGION", region]);
      }
      const line = format === "env"
        ? ([name, value]: [string, string]) => `${name}=${value}\n`
        : ([name, value]: [string, string]) => `export ${name}=${singleQuoted(value)}\n`;
      writeStdout(variables.map(line).join(""));
      return;
    }
    case "json": {
      // the credential_process shape, so `credential_process = vaultsh export --format json X` works
      const json: Record<string, string | number> = {
        Version: 1,
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
      };
      if (credentials.sessionToken !== undefined) json.SessionToken = credentials.sessionToken;
      if (expiration !== undefined) json.Expiration = expiration;
      writeStdout(JSON.stringify(json, null, 2) + "\n");
      return;
    }
    case "ini": {
      const lines = [
        `[${profile}]`,
        `aws_access_key_id = ${credentials.accessKeyId}`,
        `aws_secret_access_key = ${credentials.secretAccessKey}`,
      ];
      if (credentials.sessionToken !== undefined) {
        lines.push(`aws_session_token = ${credentials.sessionToken}`);
      }
      if (expiration !== undefined) lines.push(`aws_credential_expiration = ${expiration}`);
      if (region !== undefined) lines.push(`region = ${region}`);
      writeStdout(lines.join("\n") + "\n");
      return;
    }
  }
}

/** POSIX single quotes: every byte literal, each `'` written as `'\''`. */
function singleQuoted(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
