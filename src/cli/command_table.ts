/**
 * The command table: every command, its arguments and options, and what it runs. Help, the
 * parser, did-you-mean and the shell completions all read it; the longer option lists are in
 * command_options.ts. A row imports its command module only when it runs, so `vaultsh list`
 * never loads the AWS SDK and `vaultsh export` loads no other command.
 */
import { type CommandRow, defineCommand, defineGroup } from "./command_spec.ts";
import {
  ADD_OPTIONS,
  ALLOW_OPTIONS,
  DOCTOR_OPTIONS,
  EXPORT_OPTIONS,
  IMPORT_OPTIONS,
  LIST_OPTIONS,
  LOGIN_OPTIONS,
  POPULATE_OPTIONS,
  ROTATE_OPTIONS,
  SERVER_OPTIONS,
  SIGN_IN_OPTIONS,
  USE_OPTIONS,
} from "./command_options.ts";
import { BACKEND, CREDENTIAL_OPTIONS, credentialFlags, FORCE } from "./shared_options.ts";

/** The shells `init` supports. */
export const SHELL_WORDS = ["zsh", "bash", "fish"] as const;

export const COMMANDS: readonly CommandRow[] = [
  defineCommand({
    name: "init",
    description: 'print the shell integration: eval "$(vaultsh init zsh)" in ~/.zshrc',
    args: [{
      name: "shell",
      required: true,
      description: "zsh, bash or fish",
      complete: SHELL_WORDS,
    }],
    options: {},
    run: async ([shell]) => {
      const { initCommand } = await import("../commands/init.ts");
      const { completionScript } = await import("./completion.ts");
      initCommand(shell, completionScript);
    },
  }),
  defineCommand({
    name: "use",
    description:
      "switch this shell to the profile's credentials (through the shell integration); " +
      "without a profile, pick one on the terminal",
    args: [{ name: "profile", complete: "profile" }],
    options: USE_OPTIONS,
    run: async ([profile], options) => {
      const { useCommand } = await import("../commands/use.ts");
      await useCommand(profile, {
        ...credentialFlags(options),
        off: options.off,
        server: options.server,
      });
    },
  }),
  defineCommand({
    name: "status",
    description: "show this shell's profile, where it came from, and time left",
    args: [],
    options: { json: { kind: "flag", long: "--json", description: "print JSON" } },
    run: async (_, options) => {
      const { statusCommand } = await import("../commands/status.ts");
      await statusCommand(options);
    },
  }),
  defineCommand({
    name: "allow",
    description: "trust the .awsvault marker governing a path (default: the current directory)",
    args: [{ name: "path", complete: "path" }],
    options: ALLOW_OPTIONS,
    run: async ([path], options) => {
      const { trustCommand } = await import("../commands/trust.ts");
      await trustCommand("allow", path, options);
    },
  }),
  defineCommand({
    name: "deny",
    description: "refuse the .awsvault marker governing a path, without further notices",
    args: [{ name: "path", complete: "path" }],
    options: {},
    run: async ([path]) => {
      const { trustCommand } = await import("../commands/trust.ts");
      await trustCommand("deny", path);
    },
  }),
  defineCommand({
    name: "pin",
    description: "write .awsvault in the current directory naming the profile, and allow it",
    args: [{ name: "profile", required: true, complete: "profile" }],
    options: {},
    run: async ([profile]) => {
      const { pinCommand } = await import("../commands/pin.ts");
      await pinCommand(profile);
    },
  }),
  defineCommand({
    name: "hook",
    hidden: true,
    description: "internal: run by the shell hooks",
    args: [],
    options: {},
    run: async () => {
      const { hookCommand } = await import("../commands/hook.ts");
      await hookCommand();
    },
  }),
  defineCommand({
    name: "add",
    description: "store a long-term access key in the keychain",
    args: [{
      name: "profile",
      required: true,
      description: "profile name (added to the AWS config if missing)",
      complete: "profile",
    }],
    options: ADD_OPTIONS,
    run: async ([profile], options) => {
      const { addCommand } = await import("../commands/add.ts");
      await addCommand(profile, options);
    },
  }),
  defineCommand({
    name: "list",
    aliases: ["ls"],
    description: "list profiles, stored keys and cached sessions",
    args: [],
    options: LIST_OPTIONS,
    run: async (_, options) => {
      const { listCommand } = await import("../commands/list.ts");
      await listCommand(options);
    },
  }),
  defineCommand({
    name: "remove",
    aliases: ["rm"],
    description: "delete a stored key and its cached sessions",
    args: [{ name: "profile", required: true, complete: "profile" }],
    options: { force: FORCE, backend: BACKEND },
    run: async ([profile], options) => {
      const { removeCommand } = await import("../commands/remove.ts");
      await removeCommand(profile, options);
    },
  }),
  defineCommand({
    name: "exec",
    description: "run a command (default $SHELL) with the profile's credentials",
    args: [
      { name: "profile", required: true, complete: "profile" },
      {
        name: "command",
        variadic: true,
        description: "the command and its arguments, after --",
        complete: "command",
      },
    ],
    options: CREDENTIAL_OPTIONS,
    run: async ([profile, command], options) => {
      const { execCommand } = await import("../commands/exec.ts");
      return await execCommand(profile, command, credentialFlags(options));
    },
  }),
  defineCommand({
    name: "export",
    description:
      "print the profile's credentials (env lines, export lines, credential_process JSON, or ini)",
    args: [{ name: "profile", required: true, complete: "profile" }],
    options: EXPORT_OPTIONS,
    run: async ([profile], options) => {
      const { exportCommand } = await import("../commands/export.ts");
      await exportCommand(profile, options.format, credentialFlags(options));
    },
  }),
  defineCommand({
    name: "clear",
    description: "delete cached sessions (all, or one profile's)",
    args: [{ name: "profile", complete: "profile" }],
    options: { backend: BACKEND },
    afterHelp: "\nIAM Identity Center sign-ins stay; vaultsh sso logout ends them.\n",
    run: async ([profile], options) => {
      const { clearCommand } = await import("../commands/clear.ts");
      await clearCommand(profile, options);
    },
  }),
  defineCommand({
    name: "lock",
    description: "forget the fast cache: cached credentials and the file backend's unlocked key",
    args: [],
    options: {},
    run: async () => {
      const { lockCommand } = await import("../commands/lock.ts");
      lockCommand();
    },
  }),
  defineCommand({
    name: "server",
    description: "serve a profile's credentials to SDKs on 127.0.0.1 (ECS container protocol)",
    args: [{ name: "profile", complete: "profile" }],
    options: SERVER_OPTIONS,
    run: async ([profile], options) => {
      const { serverCommand } = await import("../commands/server.ts");
      await serverCommand(profile, options);
    },
  }),
  defineCommand({
    name: "login",
    description: "AWS console sign-in URL for the profile (opens a browser unless --stdout)",
    args: [{ name: "profile", required: true, complete: "profile" }],
    options: LOGIN_OPTIONS,
    afterHelp:
      "\nA role profile signs in as the role. An IAM user without a role signs in through\n" +
      "GetFederationToken with an allow-all session policy (so: with the user's own\n" +
      "permissions), made with the stored long-term key, since GetFederationToken refuses\n" +
      "session credentials. The URL signs anyone in for 15 minutes: keep it to yourself.\n",
    run: async ([profile], options) => {
      const { loginCommand } = await import("../commands/login.ts");
      await loginCommand(profile, {
        ...credentialFlags(options),
        stdout: options.stdout,
        path: options.path,
      });
    },
  }),
  defineCommand({
    name: "rotate",
    description: "replace the stored access key through IAM: create, store, verify, delete the old",
    args: [{
      name: "profile",
      required: true,
      description: "the profile whose key (or whose source_profile's key) to rotate",
      complete: "profile",
    }],
    options: ROTATE_OPTIONS,
    run: async ([profile], options) => {
      const { rotateCommand } = await import("../commands/rotate.ts");
      await rotateCommand(profile, {
        noSession: !options.session,
        mfaToken: options.mfaToken,
        backend: options.backend,
        waitSeconds: options.wait,
      });
    },
  }),
  defineCommand({
    name: "import",
    description: "copy the long-term keys aws-vault stored into vaultsh's keychain",
    args: [
      { name: "tool", required: true, description: "aws-vault", complete: ["aws-vault"] },
      {
        name: "profiles",
        variadic: true,
        description: "only these (default: every long-term key aws-vault stores)",
      },
    ],
    options: IMPORT_OPTIONS,
    run: async ([tool, profiles], options) => {
      const { importCommand } = await import("../commands/import.ts");
      await importCommand(tool, profiles, options);
    },
  }),
  defineGroup({
    name: "sso",
    description: "IAM Identity Center: sign in, sign out, add a profile for every account and role",
    subcommands: [
      defineCommand({
        name: "login",
        description: "sign in to IAM Identity Center (every profile of the sign-in shares it)",
        args: [{
          name: "session",
          description: "an [sso-session] name, or a profile that uses one (default: the only one)",
          complete: "sso-session",
        }],
        options: { ...SIGN_IN_OPTIONS, backend: BACKEND },
        run: async ([session], options) => {
          const { ssoLoginCommand } = await import("../commands/sso_login.ts");
          await ssoLoginCommand(session, options);
        },
      }),
      defineCommand({
        name: "logout",
        description: "sign out at AWS and forget the tokens and role credentials of the sign-in",
        args: [{
          name: "session",
          description: "an [sso-session] name, or a profile that uses one (default: every one)",
          complete: "sso-session",
        }],
        options: { backend: BACKEND },
        run: async ([session], options) => {
          const { ssoLogoutCommand } = await import("../commands/sso_logout.ts");
          await ssoLogoutCommand(session, options);
        },
      }),
      defineCommand({
        name: "populate",
        description: "add a profile to the AWS config for every account and role you are assigned",
        args: [{
          name: "session",
          required: true,
          description: "the [sso-session] whose accounts and roles to add",
          complete: "sso-session",
        }],
        options: POPULATE_OPTIONS,
        afterHelp:
          "\nNames come from the account name and the role (development-readonlyaccess);\n" +
          "existing sections are left exactly as they are, and a second run adds nothing.\n",
        run: async ([session], options) => {
          const { ssoPopulateCommand } = await import("../commands/sso_populate.ts");
          await ssoPopulateCommand(session, options);
        },
      }),
    ],
  }),
  defineCommand({
    name: "doctor",
    description: "check config, keychain, shell integration, markers and the installed binary",
    args: [],
    options: DOCTOR_OPTIONS,
    run: async (_, options) => {
      const { doctorCommand } = await import("../commands/doctor.ts");
      return await doctorCommand(options);
    },
  }),
];
