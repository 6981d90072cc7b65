/**
 * `vaultsh exec other -- cmd` from a real interactive shell that holds `use` credentials: the
 * command gets `other`'s credentials, the shell keeps its own; only an exec inside an exec of
 * another profile is refused.
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { KEYRING_TOOLS, SeedWorld } from "./support/seed_world.ts";
import { type ShellName, ShellSession } from "./support/tmux.ts";

const SHELLS: readonly ShellName[] = ["zsh", "bash", "fish"];
const MFA_PROMPT = /Enter MFA code/;
const SHOW = `sh -c 'echo "in=$AWS_VAULT/$VAULTSH_PROFILE/$VAULTSH_EXEC"'`;

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: exec other -- cmd works in a shell holding use credentials, leaving it as it was`,
    ...needs(shell, "tmux", ...KEYRING_TOOLS),
    async fn() {
      await using world = await SeedWorld.create({ mfaProcess: false });
      const { sts, box } = world;
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      await sh.send("vaultsh use account_b");
      await sh.waitFor(MFA_PROMPT);
      await sh.send(await sts.freshTotp());
      await sh.waitForPrompt();
      const before = await sh.awsEnv();
      assert.equal(before.VAULTSH_PROFILE, "account_b");

      const out = await sh.run(`vaultsh exec account_a -- ${SHOW}`, undefined, MFA_PROMPT);
      assert.match(out, /^in=account_a\/account_a\/account_a$/m, out);
      assert.doesNotMatch(out, /vaultsh: .*(nest|inside|already)/, out);
      assert.deepEqual(await sh.awsEnv(), before, "the shell is untouched");

      // an exec inside that exec, for a third profile, is the one thing refused
      const nested = await sh.run(
        `vaultsh exec account_a -- vaultsh exec account_c -- ${SHOW}`,
        undefined,
        MFA_PROMPT,
      );
      assert.match(
        nested,
        /vaultsh: exec account_c: this command runs inside 'vaultsh exec account_a'/,
      );
      assert.doesNotMatch(nested, /in=/);
      assert.deepEqual(await sh.awsEnv(), before);
    },
  });
}
