import assert from "node:assert/strict";
import { switchLine } from "../src/session/switch_line.ts";

// the local clock is what users read; these tests pin it
Deno.env.set("TZ", "UTC");
const NOW = Date.parse("2026-12-01T13:06:00Z") / 1000;
const IN_59_MIN = NOW + 59 * 60 + 30;

Deno.test("switchLine() names the profile, the expiry on the clock and the time left after use", () => {
  assert.equal(
    switchLine({
      kind: "profile",
      profile: "account_b",
      why: "use",
      marker: "",
      expires: IN_59_MIN,
      server: false,
    }, NOW),
    "account_b until 14:05 (59m left)",
  );
});

Deno.test("switchLine() names the marker that applied a profile, and says when one is restored", () => {
  const change = {
    kind: "profile",
    profile: "account_a",
    marker: "/home/me/proj/.awsvault",
    expires: NOW + 2 * 3600 + 5 * 60,
    server: false,
  } as const;
  assert.equal(
    switchLine({ ...change, why: "marker" }, NOW),
    "account_a until 15:11 (2h05m left), from /home/me/proj/.awsvault",
  );
  assert.equal(
    switchLine({ ...change, why: "restore", marker: "" }, NOW),
    "account_a until 15:11 (2h05m left), restored",
  );
});

Deno.test("switchLine() says no expiry, the credential server, and seconds when under a minute", () => {
  const base = { kind: "profile", profile: "jumpuser", why: "use", marker: "" } as const;
  assert.equal(
    switchLine({ ...base, expires: undefined, server: false }, NOW),
    "jumpuser, no expiry",
  );
  assert.equal(
    switchLine({ ...base, expires: IN_59_MIN, server: true }, NOW),
    "jumpuser through the local credential server",
  );
  assert.equal(
    switchLine({ ...base, expires: NOW + 42, server: false }, NOW),
    "jumpuser until 13:06 (42s left)",
  );
});

Deno.test("switchLine() says when the shell holds nothing, or its own variables again", () => {
  assert.equal(switchLine({ kind: "none", until: "" }, NOW), "no AWS credentials");
  assert.equal(
    switchLine({ kind: "none", until: "/home/me/proj/.awsvault" }, NOW),
    "no AWS credentials until you leave /home/me/proj",
  );
  assert.equal(
    switchLine({ kind: "own" }, NOW),
    "the AWS variables this shell had before, restored",
  );
});

Deno.test("switchLine() shows a marker path with control characters escaped", () => {
  assert.equal(
    switchLine({ kind: "none", until: "/tmp/a\x1b[2Jb/.awsvault" }, NOW),
    "no AWS credentials until you leave /tmp/a\\u001b[2Jb",
  );
});
