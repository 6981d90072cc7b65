/** `vaultsh hook` (internal): what the prompt/chpwd hooks run when their fast path says so. */
import { App } from "../app.ts";
import { runSync, shellContext } from "../session/run_sync.ts";
import { writeStdout } from "../util/stdout.ts";

export async function hookCommand(): Promise<void> {
  const app = App.fromEnv();
  const context = shellContext(app, "hook");
  writeStdout(await runSync(app, context, {}, (sync) => sync.hook(context.marker)));
}
