/** `vaultsh doctor [--json]`: check config, keychain, shell integration, markers, the binary. */
import { App } from "../app.ts";
import { renderJson, renderText, summarize } from "../doctor/render_findings.ts";
import { runDoctor } from "../doctor/run_doctor.ts";
import { writeStdout } from "../util/stdout.ts";

export interface DoctorOptions {
  readonly json?: true | undefined;
  readonly backend?: string | undefined;
}

/** Prints the findings; returns the exit code: 1 when something is broken, warnings alone 0. */
export async function doctorCommand(options: DoctorOptions): Promise<number> {
  const app = App.fromEnv(options);
  const findings = await runDoctor(app, options);
  writeStdout(options.json === true ? renderJson(findings) : renderText(findings));
  return summarize(findings).errors > 0 ? 1 : 0;
}
