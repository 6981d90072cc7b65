/**
 * Runs one keychain operation in its own process, so a test can point libsecret at a private
 * bus (startKeyring's env) without touching the test process:
 *
 *   deno run --allow-all test/support/keychain_cli.ts <backend|auto> <command> [argument]
 *
 * commands: probe | backend | get NAME | set NAME (value on stdin, never argv) | delete NAME |
 * list | lookup-foreign JSON | search-foreign JSON. The backend comes from openKeychain (`auto`
 * = no --backend flag, so VAULTSH_BACKEND or detection decide); the file backend takes its
 * passphrase from VAULTSH_FILE_PASSPHRASE. One JSON object goes to stdout:
 * `{"ok":true,"backend":...,"result":...}` or `{"ok":false,"failure":...,"message":...}`.
 *
 * From a test, call `keychainCli(env, [...])`.
 */
import { errorMessage } from "../../src/errors.ts";
import { KeychainError } from "../../src/keychain/keychain.ts";
import { openKeychain } from "../../src/keychain/open_keychain.ts";
import { loadSettings } from "../../src/settings.ts";
import { parseSessionName } from "../../src/credentials/session_name.ts";
import { denoDir } from "./keyring_daemon.ts";
import { runProgram } from "./run_program.ts";

export type CliResult =
  | { ok: true; backend: string; result: unknown }
  | { ok: false; failure: string; message: string };

const SCRIPT = new URL(import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs the script with exactly `env` (plus nothing inherited) and parses its answer. */
export async function keychainCli(
  env: Record<string, string>,
  args: string[],
  input?: string,
): Promise<CliResult> {
  const { code, stdout, stderr } = await runProgram(
    Deno.execPath(),
    ["run", "--allow-all", "--quiet", `--config=${ROOT}deno.json`, SCRIPT, ...args],
    {
      cwd: ROOT,
      // a temporary HOME would hide Deno's cache (and with it the npm packages)
      env: { DENO_DIR: denoDir(), PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
      clearEnv: true,
      ...(input === undefined ? {} : { stdin: input }),
    },
  );
  if (code !== 0) throw new Error(`keychain_cli ${args.join(" ")} exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as CliResult;
}

async function main(args: string[]): Promise<CliResult> {
  const [backend, command, argument] = args;
  if (backend === undefined || command === undefined) throw new Error("usage: <backend> <command>");
  if (command === "probe") {
    const { SecretServiceKeychain } = await import(
      "../../src/keychain/secret_service_keychain.ts"
    );
    return { ok: true, backend: "secret-service", result: await SecretServiceKeychain.probe() };
  }
  // writes go through vaultsh's fast layer, as another vaultsh's would, so its list of names
  // stays true; reads see the store of record itself
  const writes = command === "set" || command === "delete";
  const keychain = await openKeychain(loadSettings(), {
    backend: backend === "auto" ? undefined : backend,
    ...(writes ? { expiryOf: temporaryCredentialsExpiry } : {}),
    passphrase: () => {
      const passphrase = Deno.env.get("VAULTSH_FILE_PASSPHRASE");
      if (passphrase === undefined) return Promise.reject(new Error("no VAULTSH_FILE_PASSPHRASE"));
      return Promise.resolve(passphrase);
    },
  });
  const name = () => {
    if (argument === undefined) throw new Error(`${command} needs an argument`);
    return argument;
  };
  const foreign = () => {
    if (!("lookupForeign" in keychain)) {
      throw new Error(`${keychain.backend} has no foreign lookups`);
    }
    return keychain as typeof keychain & {
      lookupForeign(attributes: Record<string, string>): Promise<string | null>;
      searchForeign(attributes: Record<string, string>): Promise<unknown>;
    };
  };
  let result: unknown;
  switch (command) {
    case "backend":
      result = keychain.backend;
      break;
    case "get":
      result = await keychain.get(name());
      break;
    case "set":
      result = await keychain.set(name(), await new Response(Deno.stdin.readable).text());
      break;
    case "delete":
      result = await keychain.delete(name());
      break;
    case "list":
      result = await keychain.list();
      break;
    case "lookup-foreign":
      result = await foreign().lookupForeign(JSON.parse(name()));
      break;
    case "search-foreign":
      result = await foreign().searchForeign(JSON.parse(name()));
      break;
    default:
      throw new Error(`unknown command ${command}`);
  }
  return { ok: true, backend: keychain.backend, result: result ?? null };
}

if (import.meta.main) {
  let answer: CliResult;
  try {
    answer = await main(Deno.args);
  } catch (error) {
    answer = {
      ok: false,
      failure: error instanceof KeychainError ? error.failure : (error as Error).name,
      message: errorMessage(error),
    };
  }
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(answer) + "\n"));
}

/** The fast layer holds temporary credentials only, as vaultsh's App decides. */
function temporaryCredentialsExpiry(item: string): number | undefined {
  const session = parseSessionName(item);
  return session === undefined || session.type === "shell.Stash" ? undefined : session.expiry;
}
