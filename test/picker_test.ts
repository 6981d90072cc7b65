import assert from "node:assert/strict";
import fc from "fast-check";
import {
  filterNames,
  type Key,
  type Outcome,
  type PickerState,
  pressKey,
  startPicker,
  visibleRows,
} from "../src/picker/picker_state.ts";
import { decodeKeys } from "../src/picker/terminal_keys.ts";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";
import {
  heldProfile,
  KEYRING,
  MFA_PROMPT,
  seededBox,
  SHELLS,
  SYNTAX,
} from "./support/shell_steps.ts";
import { StsServer } from "./support/sts_server.ts";
import { ShellSession } from "./support/tmux.ts";

const NAMES = ["jumpuser", "switchrole", "account_a", "account_b", "account_c", "Prod-Admin"];

/** Presses keys in turn; fails if the picker ends before the last one. */
function press(state: PickerState, ...keys: Key[]): Outcome {
  let outcome: Outcome = { kind: "picking", state };
  for (const key of keys) {
    assert.equal(outcome.kind, "picking", `ended before ${JSON.stringify(key)}`);
    outcome = pressKey((outcome as { state: PickerState }).state, key);
  }
  return outcome;
}

const type = (text: string): Key => ({ kind: "text", text });
const key = (kind: Exclude<Key["kind"], "text">): Key => ({ kind } as Key);

Deno.test("filterNames() keeps names holding every word, case-insensitively, prefix matches first", () => {
  assert.deepEqual(filterNames(NAMES, ""), NAMES);
  assert.deepEqual(filterNames(NAMES, "acc"), ["account_a", "account_b", "account_c"]);
  assert.deepEqual(filterNames(NAMES, "ADMIN"), ["Prod-Admin"]);
  assert.deepEqual(filterNames(NAMES, "count b"), ["account_b"]);
  // "role" is in switchrole; "r" starts no name but jumpuser holds one
  assert.deepEqual(filterNames(NAMES, "r"), ["jumpuser", "switchrole", "Prod-Admin"]);
  assert.deepEqual(filterNames(NAMES, "s"), ["switchrole", "jumpuser"]);
  assert.deepEqual(filterNames(NAMES, "nothing"), []);
});

Deno.test("pressKey() chooses the highlighted match with Enter after typing and arrows", () => {
  const start = startPicker(NAMES, 10);
  assert.deepEqual(press(start, key("enter")), { kind: "chosen", name: "jumpuser" });
  assert.deepEqual(press(start, type("acc"), key("down"), key("enter")), {
    kind: "chosen",
    name: "account_b",
  });
  // arrows stop at both ends
  assert.deepEqual(press(start, type("acc"), key("up"), key("enter")), {
    kind: "chosen",
    name: "account_a",
  });
  assert.deepEqual(
    press(start, type("acc"), key("down"), key("down"), key("down"), key("enter")),
    { kind: "chosen", name: "account_c" },
  );
  assert.deepEqual(press(start, key("end"), key("enter")), { kind: "chosen", name: "Prod-Admin" });
});

Deno.test("pressKey() edits the query: typing resets the highlight, backspace and Ctrl-U undo", () => {
  const start = startPicker(NAMES, 10);
  const outcome = press(start, key("down"), key("down"), type("acc_"), key("backspace"));
  assert.equal(outcome.kind, "picking");
  const state = (outcome as { state: PickerState }).state;
  assert.equal(state.query, "acc");
  assert.equal(state.selected, 0);
  assert.deepEqual(press(state, key("clear"), key("enter")), { kind: "chosen", name: "jumpuser" });
  // control characters in typed text (a paste) never reach the query
  const pasted = press(start, type("ac\x1bc\x07"));
  assert.equal((pasted as { state: PickerState }).state.query, "acc");
});

Deno.test("pressKey() ignores Enter when nothing matches, and cancels on Escape or Ctrl-C", () => {
  const start = startPicker(NAMES, 10);
  const none = press(start, type("zzz"), key("enter"));
  assert.equal(none.kind, "picking");
  assert.deepEqual((none as { state: PickerState }).state.matches, []);
  assert.deepEqual(press(start, type("acc"), key("cancel")), { kind: "cancelled" });
});

Deno.test("visibleRows() scrolls to keep the highlight in view", () => {
  const names = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, "0")}`);
  let outcome = press(startPicker(names, 5), ...Array(7).fill(key("down")));
  let state = (outcome as { state: PickerState }).state;
  assert.deepEqual(visibleRows(state).map((row) => row.name), ["p03", "p04", "p05", "p06", "p07"]);
  assert.equal(visibleRows(state).find((row) => row.selected)?.name, "p07");
  outcome = pressKey(state, key("pageUp"));
  state = (outcome as { state: PickerState }).state;
  assert.equal(visibleRows(state).find((row) => row.selected)?.name, "p02");
  assert.equal(visibleRows(state)[0]!.name, "p02");
});

Deno.test("pressKey() keeps the highlight on a match and in view whatever keys come", () => {
  const keyArbitrary: fc.Arbitrary<Key> = fc.oneof(
    fc.constantFrom("a", "c", "_", "b", "x", " ", "ACC").map(type),
    fc.constantFrom(
      "up",
      "down",
      "pageUp",
      "pageDown",
      "home",
      "end",
      "backspace",
      "clear",
    ).map((kind) => key(kind as Exclude<Key["kind"], "text">)),
  );
  fc.assert(
    fc.property(
      fc.array(keyArbitrary, { maxLength: 40 }),
      fc.integer({ min: 1, max: 4 }),
      (keys, height) => {
        let state = startPicker(NAMES, height);
        for (const k of keys) {
          const outcome = pressKey(state, k);
          assert.equal(outcome.kind, "picking");
          state = (outcome as { state: PickerState }).state;
          assert.deepEqual(state.matches, filterNames(NAMES, state.query));
          if (state.matches.length > 0) {
            assert.ok(state.selected >= 0 && state.selected < state.matches.length);
            assert.equal(visibleRows(state).filter((row) => row.selected).length, 1);
          }
          assert.ok(visibleRows(state).length <= height);
        }
      },
    ),
  );
});

Deno.test("decodeKeys() reads text, arrows in both forms, and control keys from a raw terminal", () => {
  assert.deepEqual(decodeKeys("acc"), [type("acc")]);
  assert.deepEqual(decodeKeys("\x1b[A\x1bOB\x1b[5~\x1b[6~\x1b[H\x1b[F"), [
    key("up"),
    key("down"),
    key("pageUp"),
    key("pageDown"),
    key("home"),
    key("end"),
  ]);
  assert.deepEqual(decodeKeys("ab\x7fc\r"), [
    type("ab"),
    key("backspace"),
    type("c"),
    key("enter"),
  ]);
  assert.deepEqual(decodeKeys("\x10\x0e\x15\t"), [
    key("up"),
    key("down"),
    key("clear"),
    key("down"),
  ]);
  for (const cancel of ["\x03", "\x04", "\x07", "\x1b"]) {
    assert.deepEqual(decodeKeys(cancel), [key("cancel")], JSON.stringify(cancel));
  }
  // other sequences and Alt-keys are dropped, not typed
  assert.deepEqual(decodeKeys("\x1b[1;5Cx\x1bby"), [type("x"), type("y")]);
});

const sts = new StsServer();
globalThis.addEventListener("unload", () => void sts.stop());
const TITLE = "vaultsh: use which profile? (type to filter)";

for (const shell of SHELLS) {
  Deno.test({
    name: `${shell}: vaultsh use with no profile picks one on the terminal; Escape changes nothing`,
    ...needs(shell, "tmux", ...KEYRING),
    async fn() {
      await using box = await seededBox(sts);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      const start = await sh.awsEnv();

      await sh.send("vaultsh use");
      const picker = await sh.waitFor(/3 of 5|5 of 5/);
      assert.match(picker, new RegExp(`^${TITLE.replace(/[?()]/g, "\\$&")}:$`, "m"));
      assert.match(picker, /^> jumpuser$/m);
      await sh.type("acc");
      await sh.waitFor(/^ {2}3 of 5$/m);
      await sh.press("Down");
      await sh.waitFor(/^> account_b$/m);
      await sh.press("Enter");
      await sh.waitFor(MFA_PROMPT);
      await sh.send(await sts.freshTotp());
      const out = await sh.waitForPrompt();
      // the picker erased itself, and the shell code went to eval
      assert.doesNotMatch(out, /which profile|of 5|export|typeset|__vaultsh_/, out);
      assert.equal(await heldProfile(sh), "account_b");

      await sh.send("vaultsh use");
      await sh.waitFor(TITLE);
      await sh.type("switch");
      await sh.waitFor(/^> switchrole$/m);
      await sh.press("Escape");
      assert.match(await sh.waitForPrompt(), /vaultsh: prompt: cancelled/);
      assert.match(await sh.run(SYNTAX[shell].status), /^status=130$/m);
      assert.equal(await heldProfile(sh), "account_b");
      assert.notDeepEqual(await sh.awsEnv(), start);
    },
  });
}

Deno.test({
  name: "vaultsh use with no profile and no terminal fails in one line with exit 2",
  ...needs("setsid"),
  async fn() {
    await using box = await Sandbox.create();
    // setsid: no controlling terminal, whatever runs the tests
    const result = await box.run("setsid", ["-w", box.bin, "use"], {
      env: { __VAULTSH_SHELL: "bash" },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^vaultsh: use: missing profile \(no terminal for the picker\)$/m);
    assert.equal(
      result.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("hint: ")).length,
      1,
    );
  },
});
