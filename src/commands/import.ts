/** `vaultsh import aws-vault [profile...] [--force]`: copy the keys aws-vault stored. */
import { App } from "../app.ts";
import { UsageError } from "../errors.ts";
import { importAwsVault, type ImportOptions } from "../import/import_aws_vault.ts";

export async function importCommand(
  tool: string,
  profiles: string[],
  options: ImportOptions & { backend?: string | undefined },
): Promise<void> {
  if (tool !== "aws-vault") {
    throw new UsageError(
      "import",
      `cannot import from "${tool}"`,
      "vaultsh import aws-vault [profile...]",
    );
  }
  const app = App.fromEnv(options);
  await importAwsVault(app, profiles, options);
}
