/** `vaultsh rotate <profile> [--no-session]`: replace the stored access key through IAM. */
import { App } from "../app.ts";
import { rotateKey, type RotateOptions } from "../credentials/rotate_key.ts";

export type { RotateOptions };

export async function rotateCommand(
  profile: string,
  options: RotateOptions,
): Promise<void> {
  await rotateKey(App.fromEnv(options), profile, options);
}
