/**
 * The command table. Each action imports its command module only when it runs, so `vaultsh list`
 * never loads the AWS SDK and a shell hook never loads the table's other commands.
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import meta from "../deno.json" with { type: "json" };
import { UsageError } from "./errors.ts";
import { parseDuration } from "./util/duration.ts";

const encoder = new TextEncoder();

/** Set by commands that pass a child's status through (exec). */
let exitCode = 0;

function backendOption(): Option<"--backend <name>", undefined, undefined, string | undefined> {
  return new Option("--backend <name>", "keychain backend: secret-service, keychain or file");
}

function durationArg(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds <= 0) {
    throw new UsageError("--duration", `"${value}" is not a duration (e.g. 1h, 90m, 3600)`);
  }
  return seconds;
}

/** --duration, --region, --mfa-token, --no-session, --backend (SPEC §2). */
// deno-lint-ignore no-explicit-any
function credentialOptions<T extends Command<any, any, any>>(command: T): T {
  return (command as unknown as Command)
    .addOption(
      new Option("-d, --duration <duration>", "lifetime of the credentials (e.g. 1h, 90m)")
        .argParser(durationArg),
    )
    .option("--region <region>", "region for STS and the exported AWS_REGION")
    .option("-t, --mfa-token <code>", "MFA code to use instead of prompting")
    .option("-n, --no-session", "skip GetSessionToken")
    .addOption(backendOption()) as unknown as T;
}

interface RawCredentialOptions {
  backend?: string | undefined;
  region?: string | undefined;
  duration?: number | undefined;
  mfaToken?: string | undefined;
  session?: boolean | undefined;
}

function credentialFlags(options: RawCredentialOptions) {
  return {
    backend: options.backend,
    region: options.region,
    durationSeconds: options.duration,
    mfaToken: options.mfaToken,
    noSession: options.session === false,
  };
}

function buildProgram(): Command {
  const program = new Command("vaultsh")
    .description(
      "Shell-integrated AWS credential manager: keys in the OS keychain, one MFA code for every role",
    )
    .version(meta.version, "-V, --version")
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => Deno.stdout.writeSync(encoder.encode(text)),
      writeErr: (text) => Deno.stderr.writeSync(encoder.encode(text)),
      // errors are reported once, by main.ts, in vaultsh's own format
      outputError: () => {},
    });

  program.command("init")
    .description('print the shell integration: eval "$(vaultsh init zsh)" in ~/.zshrc')
    .argument("<shell>", "zsh, bash or fish")
    .action(async (shell) => {
      const { initCommand } = await import("./commands/init.ts");
      initCommand(shell);
    });

  credentialOptions(
    program.command("use")
      .description(
        "switch this shell to the profile's credentials (through the shell integration); " +
          "without a profile, pick one on the terminal",
      )
      .argument("[profile]")
      .option("--off", "drop them (inside a marked tree: until you leave it)")
      .option("--server", "serve them from the local credential server instead of exporting keys"),
  ).action(async (profile, options) => {
    const { useCommand } = await import("./commands/use.ts");
    const raw = options as RawCredentialOptions & { off?: true; server?: true };
    await useCommand(profile, { ...credentialFlags(raw), off: raw.off, server: raw.server });
  });

  program.command("status")
    .description("show this shell's profile, where it came from, and time left")
    .option("--json", "print JSON")
    .action(async (options) => {
      const { statusCommand } = await import("./commands/status.ts");
      await statusCommand(options);
    });

  program.command("allow")
    .description("trust the .awsvault marker governing a path (default: the current directory)")
    .argument("[path]")
    .action(async (path) => {
      const { trustCommand } = await import("./commands/trust.ts");
      await trustCommand("allow", path);
    });

  program.command("deny")
    .description("refuse the .awsvault marker governing a path, without further notices")
    .argument("[path]")
    .action(async (path) => {
      const { trustCommand } = await import("./commands/trust.ts");
      await trustCommand("deny", path);
    });

  program.command("pin")
    .description("write .awsvault in the current directory naming the profile, and allow it")
    .argument("<profile>")
    .action(async (profile) => {
      const { pinCommand } = await import("./commands/pin.ts");
      await pinCommand(profile);
    });

  program.command("hook", { hidden: true })
    .description("internal: run by the shell hooks")
    .action(async () => {
      const { hookCommand } = await import("./commands/hook.ts");
      await hookCommand();
    });

  program.command("add")
    .description("store a long-term access key in the keychain")
    .argument("<profile>", "profile name (added to the AWS config if missing)")
    .option("--env", "read AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment")
    .addOption(backendOption())
    .action(async (profile, options) => {
      const { addCommand } = await import("./commands/add.ts");
      await addCommand(profile, options);
    });

  program.command("list")
    .alias("ls")
    .description("list profiles, stored keys and cached sessions")
    .option("--names", "print profile names only")
    .addOption(backendOption())
    .action(async (options) => {
      const { listCommand } = await import("./commands/list.ts");
      await listCommand(options);
    });

  program.command("remove")
    .alias("rm")
    .description("delete a stored key and its cached sessions")
    .argument("<profile>")
    .option("-f, --force", "do not ask for confirmation")
    .addOption(backendOption())
    .action(async (profile, options) => {
      const { removeCommand } = await import("./commands/remove.ts");
      await removeCommand(profile, options);
    });

  credentialOptions(
    program.command("exec")
      .description("run a command (default $SHELL) with the profile's credentials")
      .argument("<profile>")
      .argument("[command...]", "the command and its arguments, after --"),
  ).action(async (profile, command, options) => {
    const { execCommand } = await import("./commands/exec.ts");
    exitCode = await execCommand(
      profile,
      command,
      credentialFlags(options as RawCredentialOptions),
    );
  });

  credentialOptions(
    program.command("export")
      .description("print the profile's credentials (env lines, credential_process JSON, or ini)")
      .argument("<profile>")
      .option("-f, --format <format>", "env, json or ini", "env"),
  ).action(async (profile, options) => {
    const { exportCommand } = await import("./commands/export.ts");
    const raw = options as RawCredentialOptions & { format: string };
    await exportCommand(profile, raw.format, credentialFlags(raw));
  });

  program.command("clear")
    .description("delete cached sessions (all, or one profile's)")
    .argument("[profile]")
    .addOption(backendOption())
    .action(async (profile, options) => {
      const { clearCommand } = await import("./commands/clear.ts");
      await clearCommand(profile, options);
    });

  program.command("server")
    .description("serve a profile's credentials to SDKs on 127.0.0.1 (ECS container protocol)")
    .argument("[profile]")
    .option("--region <region>", "region for STS and the exported AWS_REGION")
    .option("-t, --mfa-token <code>", "MFA code for the first fetch, instead of prompting")
    .addOption(
      new Option(
        "--idle <duration>",
        "exit after this long without requests (0: never; default: VAULTSH_SERVER_IDLE, else 15m in the background, never in the foreground)",
      ).argParser((value) => {
        const seconds = parseDuration(value);
        if (seconds === undefined) {
          throw new UsageError("--idle", `"${value}" is not a duration (e.g. 15m, 1h, 0)`);
        }
        return seconds;
      }),
    )
    .option("--detach", "start (or reuse) the shared background server, print its variables")
    .option("--stop", "stop the profile's running servers")
    .option("--list", "list the running servers")
    .addOption(new Option("--background", "internal: the server ensureServer starts").hideHelp())
    .addOption(backendOption())
    .action(async (profile, options) => {
      const { serverCommand } = await import("./commands/server.ts");
      await serverCommand(profile, options);
    });

  credentialOptions(
    program.command("login")
      .description("AWS console sign-in URL for the profile (opens a browser unless --stdout)")
      .argument("<profile>")
      .option("-s, --stdout", "print the sign-in URL instead of opening a browser")
      .option("--path <path>", "console page to open, e.g. s3/home")
      .addHelpText(
        "after",
        "\nA role profile signs in as the role. An IAM user without a role signs in through\n" +
          "GetFederationToken with an allow-all session policy (so: with the user's own\n" +
          "permissions), made with the stored long-term key, since GetFederationToken refuses\n" +
          "session credentials. The URL signs anyone in for 15 minutes: keep it to yourself.\n",
      ),
  ).action(async (profile, options) => {
    const { loginCommand } = await import("./commands/login.ts");
    const raw = options as RawCredentialOptions & { stdout?: true; path?: string };
    await loginCommand(profile, { ...credentialFlags(raw), stdout: raw.stdout, path: raw.path });
  });

  program.command("rotate")
    .description("replace the stored access key through IAM: create, store, verify, delete the old")
    .argument("<profile>", "the profile whose key (or whose source_profile's key) to rotate")
    .option("-n, --no-session", "call IAM with the key itself, not an MFA session")
    .option("-t, --mfa-token <code>", "MFA code to use instead of prompting")
    .addOption(
      new Option(
        "--wait <duration>",
        "how long to wait for IAM to accept the new key (default 30s)",
      )
        .argParser(durationArg),
    )
    .addOption(backendOption())
    .action(async (profile, options) => {
      const { rotateCommand } = await import("./commands/rotate.ts");
      const raw = options as RawCredentialOptions & { wait?: number };
      await rotateCommand(profile, {
        noSession: raw.session === false,
        mfaToken: raw.mfaToken,
        backend: raw.backend,
        waitSeconds: raw.wait,
      });
    });

  program.command("import")
    .description("copy the long-term keys aws-vault stored into vaultsh's keychain")
    .argument("<tool>", "aws-vault")
    .argument("[profiles...]", "only these (default: every long-term key aws-vault stores)")
    .option("-f, --force", "replace keys vaultsh already stores")
    .option("--from <backend>", "aws-vault's backend: secret-service or file (default: both)")
    .addOption(backendOption())
    .action(async (tool, profiles, options) => {
      const { importCommand } = await import("./commands/import.ts");
      await importCommand(tool, profiles, options);
    });

  program.command("doctor")
    .description("check config, keychain, shell integration, markers and the installed binary")
    .option("--json", "print JSON")
    .addOption(backendOption())
    .action(async (options) => {
      const { doctorCommand } = await import("./commands/doctor.ts");
      exitCode = await doctorCommand(options);
    });

  return program as unknown as Command;
}

/** Runs the command line; returns the exit code. Usage errors become UsageError. */
export async function runCli(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (
      error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
      error.code === "commander.help"
    ) {
      return 0;
    }
    const command = args.find((arg) => !arg.startsWith("-"));
    const why = error.message.replace(/^error:\s*/, "");
    throw new UsageError(
      "usage",
      why,
      command === undefined ? "see 'vaultsh --help'" : `see 'vaultsh ${command} --help'`,
    );
  }
}
