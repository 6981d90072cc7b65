import assert from "node:assert/strict";
import fc from "fast-check";
import { type EnvChange, MANAGED_VARIABLES } from "../src/credentials/credential_env.ts";
import { MfaRequired } from "../src/credentials/mfa.ts";
import {
  type MarkerVerdict,
  ShellSync,
  type Switch,
  type SyncDeps,
  type SyncResult,
} from "../src/session/shell_sync.ts";
import type { ShellState } from "../src/session/shell_state.ts";

/** A shell as ShellSync sees it: its environment, bookkeeping, and fakes for the world. */
class FakeShell {
  env: Record<string, string | undefined> = {};
  state: ShellState | undefined;
  scope = "";
  now = 1_000_000;
  markers = new Map<string, MarkerVerdict>();
  /** profile → seconds its credentials last; absent: credentials need MFA (MfaRequired). */
  lifetimes = new Map<string, number>([["account_a", 3600], ["account_b", 3600]]);
  /** Profiles whose credentials can only be had interactively. */
  needsMfa = new Set<string>();
  issued = 0;
  notices: string[] = [];
  announced: Switch[] = [];
  failures: unknown[] = [];
  stash = new Map<string, Record<string, string>>();
  interactive = true;
  lastResult: SyncResult | undefined;
  /** Paths that exist (credential servers' processes), for `watch`. */
  existing = new Set<string>();
  /** Credential servers started; a failing start throws `serverFailure`. */
  servers = 0;
  serverFailure: Error | undefined;

  deps(): SyncDeps {
    return {
      env: { ...this.env },
      interactive: this.interactive,
      now: () => this.now,
      minTtl: 300,
      credentials: (profile, request) => {
        if (this.needsMfa.has(profile) && !request.interactive) {
          return Promise.reject(
            new MfaRequired({ profile, serial: "arn:aws:iam::000000000000:mfa/jumpuser" }),
          );
        }
        const lifetime = this.lifetimes.get(profile);
        if (lifetime === undefined) return Promise.reject(new Error(`unknown profile ${profile}`));
        this.issued++;
        const env: EnvChange = {
          AWS_ACCESS_KEY_ID: `ASIA${profile}${this.issued}`,
          AWS_SECRET_ACCESS_KEY: `secret-${profile}-${this.issued}`,
          AWS_SESSION_TOKEN: `token-${profile}-${this.issued}`,
          AWS_SECURITY_TOKEN: null,
          AWS_CREDENTIAL_EXPIRATION: new Date((this.now + lifetime) * 1000).toISOString(),
          AWS_REGION: request.region ?? "ap-northeast-1",
          AWS_DEFAULT_REGION: request.region ?? "ap-northeast-1",
          AWS_PROFILE: null,
          AWS_DEFAULT_PROFILE: null,
          AWS_VAULT: profile,
          VAULTSH_PROFILE: profile,
          AWS_CONTAINER_CREDENTIALS_FULL_URI: null,
          AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: null,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: null,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: null,
        };
        if (request.server === true) {
          if (this.serverFailure !== undefined) return Promise.reject(this.serverFailure);
          const watch = `/proc/${++this.servers}`;
          this.existing.add(watch);
          const served: EnvChange = {
            ...env,
            AWS_ACCESS_KEY_ID: null,
            AWS_SECRET_ACCESS_KEY: null,
            AWS_SESSION_TOKEN: null,
            AWS_CREDENTIAL_EXPIRATION: null,
            AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${this.servers}/`,
            AWS_CONTAINER_AUTHORIZATION_TOKEN: `token-${this.servers}`,
          };
          return Promise.resolve({ env: served, expires: this.now + lifetime, watch });
        }
        return Promise.resolve({ env, expires: this.now + lifetime });
      },
      exists: (path) => Promise.resolve(this.existing.has(path)),
      marker: (path) =>
        Promise.resolve(
          this.markers.get(path) ?? { kind: "broken", error: new Error(`no marker ${path}`) },
        ),
      stash: {
        put: (values) => {
          const id = `stash${this.stash.size}`;
          this.stash.set(id, { ...values });
          return Promise.resolve(id);
        },
        take: (id) => {
          const values = this.stash.get(id) ?? null;
          this.stash.delete(id);
          return Promise.resolve(values);
        },
      },
      notice: (message) => this.notices.push(message),
      announce: (change) => this.announced.push(change),
      failure: (error) => this.failures.push(error),
    };
  }

  /** Applies a result the way the emitted shell code would. */
  apply(result: SyncResult): void {
    for (const [name, value] of result.env) {
      if (value === null) delete this.env[name];
      else this.env[name] = value;
    }
    this.state = result.state;
    this.scope = result.scope;
    this.lastResult = result;
  }

  async hook(marker: string): Promise<SyncResult> {
    const sync = new ShellSync(this.state, this.scope, this.deps());
    await sync.hook(marker);
    const result = sync.result();
    this.apply(result);
    return result;
  }

  async use(profile: string, marker = this.scope, server = false): Promise<SyncResult> {
    const sync = new ShellSync(this.state, this.scope, this.deps());
    await sync.use(profile, marker, { server });
    const result = sync.result();
    this.apply(result);
    return result;
  }

  async off(marker = this.scope): Promise<SyncResult> {
    const sync = new ShellSync(this.state, this.scope, this.deps());
    await sync.off(marker);
    const result = sync.result();
    this.apply(result);
    return result;
  }

  managed(): Record<string, string | undefined> {
    return Object.fromEntries(MANAGED_VARIABLES.map((name) => [name, this.env[name]]));
  }
}

const MARKER_A = "/work/project/.awsvault";
const MARKER_NESTED = "/work/project/sub/.awsvault";

Deno.test("ShellSync.hook() applies a trusted marker's profile on entering its tree", async () => {
  const shell = new FakeShell();
  shell.markers.set(MARKER_A, { kind: "trusted", profile: "account_a", server: false });
  const result = await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");
  assert.equal(shell.env.AWS_VAULT, "account_a");
  assert.equal(result.scope, MARKER_A);
  assert.equal(result.state.applied?.via, "marker");
  assert.equal(result.refreshAt, shell.now + 3600 - 300);
});

Deno.test("ShellSync.hook() restores account_b's exact variables when leaving a marker", async () => {
  const shell = new FakeShell();
  shell.env = { PATH: "/usr/bin", AWS_PROFILE: "should-go" };
  shell.markers.set(MARKER_A, { kind: "trusted", profile: "account_a", server: false });
  await shell.use("account_b");
  const before = shell.managed();
  assert.equal(before.VAULTSH_PROFILE, "account_b");
  assert.equal(before.AWS_PROFILE, undefined, "use unsets AWS_PROFILE");

  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");

  // leaving re-derives account_b from the cache: same profile, same variables
  shell.lifetimes.set("account_b", 3600);
  const issuedBefore = shell.issued;
  await shell.hook("");
  assert.equal(shell.env.VAULTSH_PROFILE, "account_b");
  assert.equal(shell.issued, issuedBefore + 1);
  assert.equal(shell.state?.saved, undefined);
  assert.equal(shell.state?.applied?.via, "manual");
  for (const name of MANAGED_VARIABLES) {
    if (
      name.startsWith("AWS_ACCESS") || name.startsWith("AWS_SECRET") ||
      name === "AWS_SESSION_TOKEN" || name === "AWS_CREDENTIAL_EXPIRATION"
    ) {
      continue; // the fake issues new values each time; the real cache returns the same ones
    }
    assert.equal(shell.env[name], before[name], name);
  }
});

Deno.test("ShellSync.hook() puts back hand-exported variables exactly: set, unset and empty", async () => {
  const shell = new FakeShell();
  shell.env = {
    AWS_ACCESS_KEY_ID: "AKIAHANDMADE00000000",
    AWS_SECRET_ACCESS_KEY: "hand-secret",
    AWS_REGION: "",
    AWS_PROFILE: "personal",
  };
  shell.markers.set(MARKER_A, { kind: "trusted", profile: "account_a", server: false });
  const before = shell.managed();
  await shell.hook(MARKER_A);
  assert.equal(shell.env.AWS_SECRET_ACCESS_KEY, "secret-account_a-1");
  assert.equal(shell.env.AWS_PROFILE, undefined);
  // the state holds no secret: the hand-made ones sit in the stash
  const encoded = JSON.stringify(shell.state);
  assert.ok(!encoded.includes("hand-secret"), encoded);
  assert.ok(!encoded.includes("AKIAHANDMADE"), encoded);
  assert.equal(shell.stash.size, 1);

  await shell.hook("");
  assert.deepEqual(shell.managed(), before);
  assert.equal(shell.env.AWS_REGION, "", "an empty variable stays empty, not unset");
  assert.equal(shell.stash.size, 0, "the stash is taken back");
});

Deno.test("ShellSync.hook() switches to a nested marker and back to the outer one", async () => {
  const shell = new FakeShell();
  shell.markers.set(MARKER_A, { kind: "trusted", profile: "account_a", server: false });
  shell.markers.set(MARKER_NESTED, { kind: "trusted", profile: "account_b", server: false });
  await shell.hook(MARKER_A);
  await shell.hook(MARKER_NESTED);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_b");
  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");
  await shell.hook("");
  assert.equal(shell.env.VAULTSH_PROFILE, undefined);
  assert.equal(shell.env.AWS_SECRET_ACCESS_KEY, undefined);
});

Deno.test("ShellSync.hook() changes nothing for an untrusted or denied marker", async () => {
  const verdicts: MarkerVerdict[] = [
    { kind: "untrusted", notice: "wants account_a" },
    { kind: "denied" },
    { kind: "broken", error: new Error("bad marker") },
  ];
  for (const verdict of verdicts) {
    const kind = verdict.kind;
    const shell = new FakeShell();
    shell.env = { AWS_PROFILE: "mine" };
    shell.markers.set(MARKER_A, verdict);
    const result = await shell.hook(MARKER_A);
    assert.equal(result.env.size, 0, kind);
    assert.equal(shell.env.AWS_PROFILE, "mine");
    assert.equal(result.scope, MARKER_A, "the scope is recorded so the hook does not ask again");
  }
});

Deno.test("ShellSync.use() wins inside the marker scope until the scope changes", async () => {
  const shell = new FakeShell();
  shell.markers.set(MARKER_A, { kind: "trusted", profile: "account_a", server: false });
  shell.markers.set(MARKER_NESTED, { kind: "trusted", profile: "account_a", server: false });
  await shell.hook(MARKER_A);
  await shell.use("account_b");
  assert.equal(shell.env.VAULTSH_PROFILE, "account_b");
  // the same scope again (e.g. a prompt): manual stays
  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_b");
  // entering a nested marker changes the scope: the marker wins again
  await shell.hook(MARKER_NESTED);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");
});

Deno.test("ShellSync.off() inside a marker's tree drops the credentials until the tree is left", async () => {
  const shell = new FakeShell();
  shell.markers.set(MARKER_A, { kind: "trusted", profile: "account_a", server: false });
  await shell.use("account_b");
  await shell.hook(MARKER_A);
  await shell.off();
  for (const name of MANAGED_VARIABLES) assert.equal(shell.env[name], undefined, name);
  // later prompts in the same tree leave them dropped
  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, undefined);
  // leaving gives back what the shell had before the tree; re-entering applies the marker
  await shell.hook("");
  assert.equal(shell.env.VAULTSH_PROFILE, "account_b");
  await shell.hook(MARKER_A);
  assert.equal(shell.env.VAULTSH_PROFILE, "account_a");
});

Deno.test("ShellSync.off() outside any marker drops the credentials for good", async () => {
  const shell = new FakeShell();
  shell.markers.set(MARKER_A, { kind: "trusted", profile: "account_a", server: false });
  await shell.use("account_b");
  await shell.off();
  for (const name of MANAGED_VARIABLES) assert.equal(shell.env[name], undefined, name);
  await shell.hook(MARKER_A);
  await shell.hook("");
  for (const name of MANAGED_VARIABLES) assert.equal(shell.env[name], undefined, name);
});

Deno.test("ShellSync.hook() renews credentials in the refresh window without prompting", async () => {
  const shell = new FakeShell();
  await shell.use("account_b");
  const firstKey = shell.env.AWS_ACCESS_KEY_ID;
  shell.now += 3600 - 299; // inside the 5-minute window
  shell.interactive = false;
  const result = await shell.hook("");
  assert.notEqual(shell.env.AWS_ACCESS_KEY_ID, firstKey);
  assert.equal(result.refreshAt, shell.now + 3600 - 300);
  assert.deepEqual(shell.notices, []);
  assert.equal(shell.announced.length, 1, "use announced itself, the renewal did not");
});

Deno.test("ShellSync.hook() gives one notice per expiry when renewal needs an MFA code", async () => {
  const shell = new FakeShell();
  await shell.use("account_b");
  const key = shell.env.AWS_ACCESS_KEY_ID;
  shell.needsMfa.add("account_b");
  shell.now += 3600 - 200;
  let result = await shell.hook("");
  assert.equal(shell.notices.length, 1);
  assert.match(shell.notices[0]!, /vaultsh use account_b/);
  assert.equal(shell.env.AWS_ACCESS_KEY_ID, key, "the shell is left alone");
  assert.equal(result.refreshAt, undefined, "no more calls for this expiry");
  shell.now += 100;
  result = await shell.hook("");
  assert.equal(shell.notices.length, 1);
});

Deno.test("ShellSync.hook() takes over credentials a nested shell inherited", async () => {
  const shell = new FakeShell();
  shell.env = {
    VAULTSH_PROFILE: "account_b",
    AWS_VAULT: "account_b",
    AWS_CREDENTIAL_EXPIRATION: new Date((shell.now + 100) * 1000).toISOString(),
  };
  const result = await shell.hook("");
  // inside the window already: renewed at once
  assert.equal(result.state.applied?.profile, "account_b");
  assert.equal(shell.env.AWS_SECRET_ACCESS_KEY, "secret-account_b-1");
});

Deno.test("ShellSync.use() propagates a failure and changes nothing", async () => {
  const shell = new FakeShell();
  shell.env = { AWS_PROFILE: "mine" };
  const sync = new ShellSync(undefined, "", shell.deps());
  await assert.rejects(sync.use("nope", "", {}), /unknown profile nope/);
  assert.equal(sync.result().env.size, 0);
});

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

Deno.test("ShellSync.hook() starts the credential server again once it is gone", async () => {
  const shell = new FakeShell();
  let result = await shell.use("account_b", "", true);
  assert.equal(result.watch, "/proc/1");
  assert.equal(shell.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, "http://127.0.0.1:1/");
  // a prompt while it runs changes nothing
  result = await shell.hook("");
  assert.equal(result.env.size, 0);
  assert.equal(shell.servers, 1);

  shell.existing.delete("/proc/1"); // idle timeout, crash or kill
  result = await shell.hook("");
  assert.equal(shell.servers, 2);
  assert.equal(shell.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, "http://127.0.0.1:2/");
  assert.equal(result.watch, "/proc/2");
  assert.equal(result.state.applied?.server, true);
  assert.deepEqual(shell.notices, []);
});

Deno.test("ShellSync.hook() falls back to plain credentials with one line when the server cannot run", async () => {
  const shell = new FakeShell();
  await shell.use("account_b", "", true);
  shell.existing.clear();
  shell.serverFailure = new Error('credential server for "account_b": it did not start');
  let result = await shell.hook("");
  assert.match(shell.env.AWS_ACCESS_KEY_ID ?? "", /^ASIAaccount_b/);
  assert.equal(shell.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, undefined);
  assert.equal(shell.notices.length, 1);
  assert.match(shell.notices[0]!, /did not start; the shell holds account_b's plain credentials/);
  assert.equal(result.watch, undefined, "nothing to watch: no prompt calls vaultsh for it");
  assert.equal(result.state.applied?.server, true, "renewal tries the server again");

  // at renewal the server works again
  shell.serverFailure = undefined;
  shell.now = result.refreshAt!;
  result = await shell.hook("");
  assert.equal(shell.env.AWS_ACCESS_KEY_ID, undefined);
  assert.match(shell.env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? "", /^http:/);
  assert.equal(result.watch, `/proc/${shell.servers}`);
});
