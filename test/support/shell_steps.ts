/**
 * The steps the shell scenario tests share: a seeded sandbox, markers, `vaultsh use` answering
 * the MFA prompt, commands that must not ask for a code, and what differs between the shells in
 * the commands a test types.
 *
 *   await using box = await seededBox(sts);
 *   await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
 *   await useWithMfa(sh, sts, "account_b");
 *   assert.equal(await account(sh, sts), "222222222222");
 */
import assert from "node:assert/strict";
import { needs } from "./needs.ts";
import { Sandbox } from "./sandbox.ts";
import type { StsServer } from "./sts_server.ts";
import type { ShellName, ShellSession } from "./tmux.ts";

export const SHELLS: readonly ShellName[] = ["zsh", "bash", "fish"];
export const KEYRING = ["dbus-daemon", "gnome-keyring-daemon"] as const;
export const MFA_PROMPT = /Enter MFA code/;
/** The renewal window in these tests: short credentials become due a few seconds after issue. */
export const MIN_TTL = 30;

/** What differs between the shells in the commands the tests type. */
export const SYNTAX: Record<ShellName, {
  readonly status: string;
  show(variable: string): string;
  readonly nested: string;
}> = {
  zsh: {
    status: 'echo "status=$?"',
    show: (name) => `echo "${name}=\${${name}-}"`,
    nested: "zsh --no-globalrcs -i",
  },
  bash: {
    status: 'echo "status=$?"',
    show: (name) => `echo "${name}=\${${name}-}"`,
    nested: "bash --noprofile -i",
  },
  fish: {
    status: 'echo "status=$status"',
    show: (name) => `echo "${name}=$${name}"`,
    nested: "fish -i",
  },
};

/** The account the AWS CLI sees with the shell's credentials. */
export async function account(sh: ShellSession, sts: StsServer): Promise<string> {
  const out = await sh.run(
    `/usr/bin/aws sts get-caller-identity --endpoint-url ${sts.url} --query Account --output text`,
  );
  return out.trim();
}

/** Runs a command that must not ask for an MFA code (fails at once if it does). */
export async function runNoMfa(sh: ShellSession, command: string): Promise<string> {
  const out = await sh.run(command, undefined, MFA_PROMPT);
  assert.doesNotMatch(out, MFA_PROMPT);
  return out;
}

/**
 * Runs `action` while the STS hands out credentials lasting `seconds`, and returns the AWS
 * variables the shell holds after it.
 */
export async function shortLived(
  sh: ShellSession,
  sts: StsServer,
  seconds: number,
  action: () => Promise<unknown>,
): Promise<Record<string, string>> {
  sts.expiresIn(seconds);
  try {
    await action();
    return await sh.awsEnv();
  } finally {
    sts.expiresIn(undefined);
  }
}

/** Writes `dir/.awsvault` (creating dir) and returns its path. */
export async function writeMarker(dir: string, content: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/.awsvault`, content);
  return `${dir}/.awsvault`;
}

/** A sandbox with the seed config, the demo key, and a short renewal window. */
export async function seededBox(
  sts: StsServer,
  env: Readonly<Record<string, string>> = {},
): Promise<Sandbox> {
  const box = await Sandbox.create({
    keyring: true,
    sts,
    env: { VAULTSH_MIN_TTL: `${MIN_TTL}`, ...env },
  });
  try {
    await box.seed();
  } catch (error) {
    await box.close();
    throw error;
  }
  return box;
}

/** `vaultsh allow <marker>` outside the shell. */
export async function allow(box: Sandbox, marker: string): Promise<void> {
  const result = await box.vaultsh(["allow", marker]);
  assert.equal(result.code, 0, result.stderr);
}

/** `vaultsh use <profile>` answering the MFA prompt; returns what the shell printed. */
export async function useWithMfa(
  sh: ShellSession,
  sts: StsServer,
  profile: string,
): Promise<string> {
  await sh.send(`vaultsh use ${profile}`);
  await sh.waitFor(MFA_PROMPT);
  await sh.send(await sts.freshTotp());
  return await sh.waitForPrompt();
}

/** Runs `command` (failing on an MFA prompt), then requires the shell to hold `profile`. */
export async function runHolding(
  sh: ShellSession,
  command: string,
  profile: string,
): Promise<void> {
  await runNoMfa(sh, command);
  assert.equal(await heldProfile(sh), profile, `after ${command}`);
}

/** The profile the shell holds now ("" for none), read from its environment. */
export async function heldProfile(sh: ShellSession): Promise<string> {
  return (await sh.awsEnv()).VAULTSH_PROFILE ?? "";
}

/**
 * Resolves once credentials expiring at `expiration` (ISO 8601) are due for renewal, plus a
 * second for the shells' whole-second clocks. Renewal time is the behaviour under test, and the
 * hooks read the clock: there is no event to wait on instead.
 */
export async function renewalDue(expiration: string): Promise<void> {
  const due = Date.parse(expiration) - MIN_TTL * 1000 + 1000;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
}

/** A test with a fresh sandbox of its own; outside CI it is skipped when a tool is missing. */
export function testInSandbox(
  name: string,
  tools: readonly string[],
  fn: (box: Sandbox) => Promise<void>,
): void {
  Deno.test({
    name,
    ...needs(...tools),
    async fn() {
      await using box = await Sandbox.create();
      await fn(box);
    },
  });
}
