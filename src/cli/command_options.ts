/**
 * The options of each command, by command: the command table (command_table.ts) says which
 * command takes which, and what it runs.
 */
import {
  BACKEND,
  CREDENTIAL_OPTIONS,
  durationFlag,
  FORCE,
  MFA_TOKEN,
  NO_SESSION,
  REGION,
} from "./shared_options.ts";

/** How an IAM Identity Center sign-in reaches the browser. */
export const SIGN_IN_OPTIONS = {
  noBrowser: {
    kind: "flag",
    long: "--no-browser",
    description: "print the sign-in URL and code without opening a browser",
  },
  useDeviceCode: {
    kind: "flag",
    long: "--use-device-code",
    description: "sign in with a code on another device, even where a browser opens here",
  },
} as const;

/** What `export --format` takes. */
export const FORMAT_WORDS = ["env", "export-env", "json", "ini"] as const;

export const USE_OPTIONS = {
  off: {
    kind: "flag",
    long: "--off",
    description: "drop them (inside a marked tree: until you leave it)",
  },
  server: {
    kind: "flag",
    long: "--server",
    description: "serve them from the local credential server instead of exporting keys",
  },
  ...CREDENTIAL_OPTIONS,
} as const;

export const ALLOW_OPTIONS = {
  force: {
    ...FORCE,
    description: "allow a marker owned by another user or in a world-writable directory",
  },
} as const;

export const ADD_OPTIONS = {
  env: {
    kind: "flag",
    long: "--env",
    description: "read AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment",
  },
  force: { ...FORCE, description: "replace a key already stored, without asking" },
  backend: BACKEND,
} as const;

export const LIST_OPTIONS = {
  names: { kind: "flag", long: "--names", description: "print profile names only" },
  ssoSessions: {
    kind: "flag",
    long: "--sso-sessions",
    description: "print [sso-session] names only (for completion)",
    hidden: true,
  },
  backend: BACKEND,
} as const;

export const EXPORT_OPTIONS = {
  format: {
    // not -f: that is --force wherever it exists
    kind: "value",
    long: "--format",
    value: "format",
    description: "env, export-env, json or ini",
    default: "env",
    complete: FORMAT_WORDS,
  },
  ...CREDENTIAL_OPTIONS,
} as const;

export const SERVER_OPTIONS = {
  region: REGION,
  mfaToken: {
    ...MFA_TOKEN,
    description: "MFA code for the first fetch, instead of prompting",
  },
  idle: {
    kind: "value",
    long: "--idle",
    value: "duration",
    description:
      "exit after this long without requests (0: never; default: VAULTSH_SERVER_IDLE, else 15m in the background, never in the foreground)",
    parse: durationFlag("zero allowed"),
  },
  detach: {
    kind: "flag",
    long: "--detach",
    description: "start (or reuse) the shared background server, print its variables",
  },
  stop: { kind: "flag", long: "--stop", description: "stop the profile's running servers" },
  list: { kind: "flag", long: "--list", description: "list the running servers" },
  background: {
    kind: "flag",
    long: "--background",
    description: "internal: the server ensureServer starts",
    hidden: true,
  },
  backend: BACKEND,
} as const;

export const LOGIN_OPTIONS = {
  stdout: {
    kind: "flag",
    short: "-s",
    long: "--stdout",
    description: "print the sign-in URL instead of opening a browser",
  },
  path: {
    kind: "value",
    long: "--path",
    value: "path",
    description: "console page to open, e.g. s3/home",
  },
  ...CREDENTIAL_OPTIONS,
} as const;

export const ROTATE_OPTIONS = {
  session: {
    ...NO_SESSION,
    description: "call IAM with the key itself, not an MFA session",
  },
  mfaToken: MFA_TOKEN,
  wait: {
    kind: "value",
    long: "--wait",
    value: "duration",
    description: "how long to wait for IAM to accept the new key (default 30s)",
    parse: durationFlag("positive"),
  },
  backend: BACKEND,
} as const;

export const IMPORT_OPTIONS = {
  force: { ...FORCE, description: "replace keys vaultsh already stores" },
  from: {
    kind: "value",
    long: "--from",
    value: "backend",
    description: "aws-vault's backend: secret-service or file (default: both)",
    complete: ["secret-service", "file"],
  },
  backend: BACKEND,
} as const;

export const POPULATE_OPTIONS = {
  dryRun: {
    kind: "flag",
    long: "--dry-run",
    description: "print the sections instead of adding them",
  },
  region: {
    kind: "value",
    long: "--region",
    value: "region",
    description: "a region line for each new profile",
  },
  ...SIGN_IN_OPTIONS,
  backend: BACKEND,
} as const;

export const DOCTOR_OPTIONS = {
  json: { kind: "flag", long: "--json", description: "print JSON" },
  backend: BACKEND,
} as const;
