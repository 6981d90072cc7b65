/**
 * `vaultsh status`: expired credentials say so, credentials vaultsh did not put in the shell are
 * named as not vaultsh's, and the text rows agree with `--json` field for field.
 */
import assert from "node:assert/strict";
import { describeStatus, renderStatus, type Status } from "../src/commands/status.ts";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";
import { KEYRING, seededBox, SHELLS, useWithMfa } from "./support/shell_steps.ts";
import { StsServer } from "./support/sts_server.ts";
import { ShellSession } from "./support/tmux.ts";

const NOW = Date.parse("2026-12-01T13:00:00Z");
const IN_AN_HOUR = "2026-12-01T14:00:00Z";
const USE_STATE = JSON.stringify({ applied: { profile: "account_b", via: "manual", scope: "" } });

/** The environments status is asked about, with what it must say. */
const CASES: { what: string; env: Record<string, string>; expect: Partial<Status> }[] = [
  { what: "nothing", env: {}, expect: { profile: null, source: null, expired: false } },
  {
    what: "vaultsh use",
    env: {
      VAULTSH_PROFILE: "account_b",
      AWS_VAULT: "account_b",
      AWS_ACCESS_KEY_ID: "ASIAEXAMPLE",
      AWS_CREDENTIAL_EXPIRATION: IN_AN_HOUR,
      AWS_REGION: "ap-northeast-1",
      __VAULTSH_STATE: USE_STATE,
    },
    expect: { profile: "account_b", source: "use", secondsLeft: 3600, expired: false },
  },
  {
    what: "a marker",
    env: {
      VAULTSH_PROFILE: "account_a",
      AWS_CREDENTIAL_EXPIRATION: IN_AN_HOUR,
      __VAULTSH_STATE: JSON.stringify({
        applied: { profile: "account_a", via: "marker", scope: "/p/.awsvault" },
      }),
    },
    expect: { profile: "account_a", source: "marker", marker: "/p/.awsvault" },
  },
  {
    what: "expired credentials",
    env: {
      VAULTSH_PROFILE: "account_b",
      AWS_CREDENTIAL_EXPIRATION: "2026-12-01T12:59:00Z",
      __VAULTSH_STATE: USE_STATE,
    },
    expect: { source: "use", secondsLeft: 0, expired: true },
  },
  {
    what: "inherited from vaultsh exec",
    env: { VAULTSH_PROFILE: "account_c", AWS_VAULT: "account_c" },
    expect: { profile: "account_c", source: "environment" },
  },
  {
    what: "keys exported by hand",
    env: { AWS_ACCESS_KEY_ID: "AKIAHAND", AWS_SECRET_ACCESS_KEY: "x", AWS_PROFILE: "ignored" },
    expect: { profile: null, source: "keys" },
  },
  {
    what: "AWS_PROFILE",
    env: { AWS_PROFILE: "personal" },
    expect: { profile: "personal", source: "AWS_PROFILE", secondsLeft: null },
  },
  {
    what: "aws-vault exec",
    env: { AWS_VAULT: "work", AWS_ACCESS_KEY_ID: "ASIAVAULT" },
    expect: { profile: "work", source: "aws-vault" },
  },
];

Deno.test("describeStatus() says whose credentials the shell holds and whether they expired", () => {
  for (const { what, env, expect } of CASES) {
    const status = describeStatus(env, NOW, null);
    for (const [key, value] of Object.entries(expect)) {
      assert.deepEqual(status[key as keyof Status], value, `${what}: ${key}`);
    }
  }
});

Deno.test("renderStatus() says expired, never 0s left, and names credentials that are not vaultsh's", () => {
  const expired = renderStatus(describeStatus(CASES[3]!.env, NOW, null));
  assert.match(expired, /^left +expired$/m);
  assert.doesNotMatch(expired, /0s/);
  assert.match(
    renderStatus(describeStatus(CASES[5]!.env, NOW, null)),
    /^source +keys in the environment \(not vaultsh's\)$/m,
  );
  assert.match(
    renderStatus(describeStatus(CASES[6]!.env, NOW, null)),
    /^source +AWS_PROFILE \(not vaultsh's\)$/m,
  );
});

/** The text's rows by name. */
function rows(text: string): Record<string, string> {
  return Object.fromEntries(
    text.trimEnd().split("\n").map((line) => {
      const [, key, value] = /^(\S+) +(.*)$/.exec(line)!;
      return [key!, value!];
    }),
  );
}

Deno.test("status and status --json agree field for field", async () => {
  await using box = await Sandbox.create();
  const served = { VAULTSH_PROFILE: "account_b", AWS_CONTAINER_CREDENTIALS_FULL_URI: "" };
  const cases = [
    ...CASES.map(({ what, env }) => ({ what, env })),
    // a credential server that is gone: nothing listens on port 1
    {
      what: "server",
      env: { ...served, AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:1/" },
    },
  ];
  for (const { what, env } of cases) {
    const clean = { VAULTSH_PROFILE: undefined, AWS_VAULT: undefined, AWS_PROFILE: undefined };
    const text = await box.vaultsh(["status"], { env: { ...clean, ...env } });
    const json = await box.vaultsh(["status", "--json"], { env: { ...clean, ...env } });
    assert.equal(text.code, 0, text.stderr);
    assert.equal(json.code, 0, json.stderr);
    const fields = JSON.parse(json.stdout) as Status;
    const shown = rows(text.stdout);
    const dash = (value: string | null) => value ?? "-";
    assert.equal(shown.profile, dash(fields.profile), what);
    assert.equal(shown.source === "-", fields.source === null, what);
    if (fields.source !== null) assert.ok(shown.source!.includes(fields.source), what);
    assert.equal(
      /not vaultsh's/.test(shown.source!),
      /aws-vault|keys|AWS_PROFILE/.test(`${fields.source}`),
      what,
    );
    assert.equal(shown.marker, dash(fields.marker), what);
    assert.equal(shown.expiration, dash(fields.expiration), what);
    assert.equal(shown.left === "expired", fields.expired, what);
    assert.equal(shown.left === "-", fields.secondsLeft === null, what);
    assert.equal(shown.region, dash(fields.region), what);
    assert.ok(shown.server!.startsWith(dash(fields.server)), what);
    assert.deepEqual(Object.keys(shown), [
      "profile",
      "source",
      "marker",
      "expiration",
      "left",
      "region",
      "server",
    ]);
    assert.deepEqual(Object.keys(fields), [
      "profile",
      "source",
      "marker",
      "expiration",
      "secondsLeft",
      "expired",
      "region",
      "server",
    ]);
  }
});

const sts = new StsServer();
globalThis.addEventListener("unload", () => void sts.stop());

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: status names AWS_PROFILE as not vaultsh's, then vaultsh use with its time left`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      await using box = await seededBox(sts);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      await sh.run(
        shell === "fish" ? "set -gx AWS_PROFILE personal" : "export AWS_PROFILE=personal",
      );
      const foreign = rows(await sh.run("vaultsh status"));
      assert.equal(foreign.profile, "personal");
      assert.equal(foreign.source, "AWS_PROFILE (not vaultsh's)");
      await useWithMfa(sh, sts, "account_b");
      const mine = rows(await sh.run("vaultsh status"));
      assert.equal(mine.profile, "account_b");
      assert.equal(mine.source, "vaultsh use");
      assert.match(mine.left!, /^(59m\d\ds|1h00m)$/);
      assert.equal(mine.server, "-");
    },
  });
}
