/**
 * signalNumber(): the number behind a Deno signal name on the platform vaultsh runs on, for
 * exec's `128 + n` exit status when the child's signal cannot be re-raised.
 */
import assert from "node:assert/strict";
import { SIGNAL_NUMBERS, signalNumber } from "../src/util/signal_number.ts";
import { needs } from "./support/needs.ts";

Deno.test({
  name: "signalNumber() agrees with this system's kill -l for every signal it knows",
  ...needs("bash"),
  async fn() {
    const names = Object.keys(SIGNAL_NUMBERS[Deno.build.os === "darwin" ? "darwin" : "linux"]);
    assert.ok(names.length >= 28, `only ${names.length} signals`);
    const script = names.map((name) => `kill -l ${name.slice(3)}`).join("; ");
    const output = await new Deno.Command("bash", { args: ["-c", script] }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const numbers = new TextDecoder().decode(output.stdout).trim().split("\n").map(Number);
    assert.deepEqual(numbers, names.map((name) => signalNumber(name as Deno.Signal)));
  },
});

Deno.test("signalNumber() uses macOS's numbers on macOS, where SIGUSR1 is 30", () => {
  assert.equal(signalNumber("SIGUSR1", "darwin"), 30);
  assert.equal(signalNumber("SIGUSR1", "linux"), 10);
  assert.equal(signalNumber("SIGBUS", "darwin"), 10);
  assert.equal(signalNumber("SIGBUS", "linux"), 7);
  assert.equal(signalNumber("SIGTERM", "darwin"), 15);
});

Deno.test("signalNumber() is undefined for a signal the platform does not have", () => {
  assert.equal(signalNumber("SIGINFO", "linux"), undefined);
  assert.equal(signalNumber("SIGPWR", "darwin"), undefined);
});
