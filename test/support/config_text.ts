/** An AwsConfig from the text of a config file, read from a throwaway HOME. */
import { AwsConfig } from "../../src/aws/aws_config.ts";
import { loadSettings } from "../../src/settings.ts";

export async function configFromText(config: string): Promise<AwsConfig> {
  const home = await Deno.makeTempDir({ prefix: "vaultsh_config_text_" });
  try {
    await Deno.mkdir(`${home}/.aws`);
    await Deno.writeTextFile(`${home}/.aws/config`, config);
    // AwsConfig reads everything in load(): the directory can go at once
    return await AwsConfig.load(loadSettings({ HOME: home }));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}
