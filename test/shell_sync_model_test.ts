/**
 * ShellSync against a reference model of "what the user last asked for": random sequences of
 * use, cd, allow, deny, pin, use --off and idle prompts, each followed by the prompt's hook.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { MANAGED_VARIABLES } from "../src/credentials/credential_env.ts";
import type { Switch } from "../src/session/sync_types.ts";
import { FakeShell } from "./support/fake_shell.ts";

/**
 * The reference model: the shell holds what the user last asked for. Outside a trusted marker
 * that is the last `use`/`use --off` made there (or what the shell started with); inside one it
 * is the marker's profile, unless a `use`/`use --off` was made since entering that marker.
 */
type Held = { kind: "start" } | { kind: "none" } | { kind: "profile"; profile: string };

type Step =
  | { op: "cd"; dir: string }
  | { op: "use"; profile: string }
  | { op: "off" }
  | { op: "allow" }
  | { op: "deny" }
  | { op: "pin"; profile: string }
  | { op: "prompt" };

const DIRS = ["/home", "/home/a", "/home/a/sub", "/home/a/n", "/home/c", "/home/c/sub"];
const PROFILES = ["account_a", "account_b", "account_c", "account_d"];

class Model {
  base: Held = { kind: "start" };
  override: { scope: string; held: Held } | undefined;
  scope = "";
  cwd = "/home";
  /** marker path → profile, and whether it is trusted. */
  markers = new Map<string, { profile: string; trusted: boolean }>([
    ["/home/a/.awsvault", { profile: "account_a", trusted: true }],
    ["/home/a/n/.awsvault", { profile: "account_b", trusted: true }],
    ["/home/c/.awsvault", { profile: "account_c", trusted: false }],
  ]);

  governing(dir = this.cwd): string {
    for (let d = dir; d !== ""; d = d.slice(0, d.lastIndexOf("/"))) {
      if (this.markers.has(`${d}/.awsvault`)) return `${d}/.awsvault`;
    }
    return "";
  }

  /** The marker in effect here: the governing one when trusted. */
  inEffect(): string {
    const marker = this.governing();
    return marker !== "" && this.markers.get(marker)!.trusted ? marker : "";
  }

  expected(): Held {
    const marker = this.inEffect();
    if (marker === "") return this.base;
    if (this.override?.scope === marker) return this.override.held;
    return { kind: "profile", profile: this.markers.get(marker)!.profile };
  }

  /** A prompt: a new governing marker ends any manual choice made under the old one. */
  prompt(): void {
    const marker = this.governing();
    if (marker !== this.scope) this.override = undefined;
    this.scope = marker;
  }

  choose(held: Held): void {
    const marker = this.inEffect();
    if (marker === "") {
      this.base = held;
      this.override = undefined;
    } else this.override = { scope: marker, held };
    this.scope = this.governing();
  }

  trust(trusted: boolean): void {
    const marker = this.governing();
    if (marker === "") return;
    this.markers.get(marker)!.trusted = trusted;
    this.override = undefined;
  }

  pin(profile: string): void {
    this.markers.set(`${this.cwd}/.awsvault`, { profile, trusted: true });
    this.override = undefined;
    this.scope = this.governing();
  }
}

/** Runs a step against ShellSync the way the shell function and the hooks would. */
async function runStep(shell: FakeShell, model: Model, step: Step): Promise<void> {
  const syncMarkers = () => {
    shell.markers = new Map(
      [...model.markers].map(([path, { profile, trusted }]) => [
        path,
        trusted
          ? { kind: "trusted", profile, server: false }
          : { kind: "untrusted", notice: `${path} wants ${profile}` },
      ]),
    );
  };
  switch (step.op) {
    case "cd":
      model.cwd = step.dir;
      break;
    case "use":
      await shell.use(step.profile, model.governing());
      model.choose({ kind: "profile", profile: step.profile });
      break;
    case "off":
      await shell.off(model.governing());
      model.choose({ kind: "none" });
      break;
    case "allow":
    case "deny":
    case "pin": {
      const governing = model.governing();
      if (step.op === "pin") model.pin(step.profile);
      else model.trust(step.op === "allow");
      syncMarkers();
      // what recheckShell prints when the changed marker governs the shell's directory
      if (step.op === "pin" || governing !== "") shell.scope = "";
      break;
    }
    case "prompt":
      break;
  }
  syncMarkers();
  // the prompt after every command
  await shell.hook(model.governing());
  model.prompt();
}

function assertHolds(shell: FakeShell, held: Held, start: Record<string, string>, trail: Step[]) {
  const where = JSON.stringify(trail);
  if (held.kind === "start") {
    for (const name of MANAGED_VARIABLES) assert.equal(shell.env[name], start[name], where);
  } else if (held.kind === "none") {
    for (const name of MANAGED_VARIABLES) assert.equal(shell.env[name], undefined, where);
  } else {
    assert.equal(shell.env.VAULTSH_PROFILE, held.profile, where);
    assert.equal(shell.env.AWS_VAULT, held.profile, where);
    assert.match(shell.env.AWS_ACCESS_KEY_ID ?? "", new RegExp(`^ASIA${held.profile}\\d+$`), where);
  }
}

/** One line per switch: always for use and --off, and whenever what the shell holds changed. */
function assertAnnounced(
  announced: Switch[],
  before: Held,
  held: Held,
  step: Step,
  start: Record<string, string>,
  trail: Step[],
) {
  const where = JSON.stringify({ trail, announced });
  assert.ok(announced.length <= 1, where);
  const changed = JSON.stringify(before) !== JSON.stringify(held);
  if (changed || step.op === "use" || step.op === "off") assert.equal(announced.length, 1, where);
  const change = announced[0];
  if (change === undefined) return;
  if (held.kind === "profile") {
    assert.equal(change.kind === "profile" && change.profile, held.profile, where);
  } else if (held.kind === "start" && Object.keys(start).length > 0) {
    assert.equal(change.kind, "own", where);
  } else assert.equal(change.kind, "none", where);
}

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant("cd" as const), dir: fc.constantFrom(...DIRS) }),
  fc.record({ op: fc.constant("use" as const), profile: fc.constantFrom(...PROFILES) }),
  fc.constant({ op: "off" as const }),
  fc.constant({ op: "allow" as const }),
  fc.constant({ op: "deny" as const }),
  fc.record({ op: fc.constant("pin" as const), profile: fc.constantFrom(...PROFILES) }),
  fc.constant({ op: "prompt" as const }),
);

Deno.test("ShellSync holds what the user last asked for, announcing each switch in one line, over any sequence of use, cd, allow, deny, pin and use --off", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(stepArbitrary, { maxLength: 25 }),
      fc.constantFrom<Record<string, string>>(
        {},
        { AWS_PROFILE: "personal" },
        {
          AWS_ACCESS_KEY_ID: "AKIAHANDMADE00000000",
          AWS_SECRET_ACCESS_KEY: "hand",
          AWS_REGION: "",
        },
      ),
      async (steps, start) => {
        const shell = new FakeShell();
        for (const profile of PROFILES) shell.lifetimes.set(profile, 3600);
        shell.env = { ...start };
        const model = new Model();
        await runStep(shell, model, { op: "prompt" });
        const trail: Step[] = [];
        for (const step of steps) {
          trail.push(step);
          const before = model.expected();
          shell.announced = [];
          await runStep(shell, model, step);
          const held = model.expected();
          assertHolds(shell, held, start, trail);
          assertAnnounced(shell.announced, before, held, step, start, trail);
          assert.deepEqual(shell.failures, [], JSON.stringify(trail));
          // hand-exported secrets wait in the stash only while something displaces them
          const stashed = shell.state?.saved?.stash === undefined ? 0 : 1;
          assert.equal(shell.stash.size, stashed, JSON.stringify(trail));
        }
      },
    ),
    { numRuns: 2000 },
  );
});
