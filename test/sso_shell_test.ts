/**
 * IAM Identity Center in real interactive zsh, bash and fish (tmux), one scenario per shell:
 * sign in once at `vaultsh use dev`, `use` another profile of the same sso-session and `cd` into
 * a marked tree naming the first with no second sign-in, a silent renewal at the prompt that
 * redeems the refresh token after AWS stopped honouring the access token, one notice naming
 * `vaultsh sso login` once the sign-in has ended, the AWS CLI's cached token taken up, populate,
 * and a denied sign-in. zsh signs in through a scripted browser (authorization code with PKCE),
 * bash and fish with device codes the stand-in user approves.
 */
import assert from "node:assert/strict";
import { needs } from "./support/needs.ts";
import { Sandbox } from "./support/sandbox.ts";
import {
  heldProfile,
  KEYRING,
  MIN_TTL,
  SHELLS,
  SYNTAX,
  writeMarker,
} from "./support/shell_steps.ts";
import { scriptedBrowser, SESSION, SsoEndpoints } from "./support/sso_steps.ts";
import { type ShellName, ShellSession } from "./support/tmux.ts";

const local = SsoEndpoints.shared();
const { sts, sso } = local;

/** The account the AWS CLI sees with the shell's credentials (the AWS CLI as consumer). */
async function account(sh: ShellSession): Promise<string> {
  return (await sh.run(
    `/usr/bin/aws sts get-caller-identity --endpoint-url ${sts.url} --region us-east-1 --query Account --output text`,
  )).trim();
}

/** The account of the role credentials the shell holds, as the local STS issued them. */
async function heldAccount(sh: ShellSession): Promise<string | undefined> {
  return sts.session((await sh.awsEnv()).AWS_ACCESS_KEY_ID ?? "")?.role?.account;
}

/** Waits until the shell's credentials are inside the renewal window. */
async function untilDue(sh: ShellSession): Promise<void> {
  const expiration = Date.parse((await sh.awsEnv()).AWS_CREDENTIAL_EXPIRATION!);
  const due = expiration - MIN_TTL * 1000;
  assert.ok(due - Date.now() < 15_000, "the short credentials last too long");
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now() + 1_000)));
}

/** Lines vaultsh printed, without progress lines ("…"). */
function said(output: string): string[] {
  return output.split("\n").filter((line) => line.startsWith("vaultsh") && !line.endsWith("…"));
}

for (const shell of SHELLS) {
  Deno.test({
    name:
      `${shell}: one SSO sign-in serves use, a second profile and a marker; renewal refreshes, then one notice names vaultsh sso login`,
    ...needs(shell, "tmux", "curl", "/usr/bin/aws", ...KEYRING),
    async fn() {
      sso.reset();
      const pkce = shell === ("zsh" satisfies ShellName);
      await using box = await Sandbox.create({
        keyring: true,
        sts,
        env: { VAULTSH_MIN_TTL: `${MIN_TTL}`, ...local.env() },
      });
      const decision = `${box.root}/decision`;
      if (pkce) box.env.BROWSER = await scriptedBrowser(box.root, decision);
      else sso.userWill({ decision: "approve" });
      await box.writeConfig(local.config());
      const marker = await writeMarker(`${box.home}/proj`, "dev\n");
      assert.equal((await box.vaultsh(["allow", marker])).code, 0);
      await using sh = await ShellSession.start({ shell, env: box.env, dir: box.root });
      try {
        // sign in once
        const used = await sh.run("vaultsh use dev");
        assert.match(used, /signed in to .* \(sso-session "demo"\)/);
        assert.equal(sso.count(pkce ? "Authorize" : "StartDeviceAuthorization"), 1, used);
        assert.equal(await heldProfile(sh), "dev");
        assert.equal(await account(sh), "111111111111");

        // another profile of the session, and a marker naming the first: no second sign-in
        assert.doesNotMatch(await sh.run("vaultsh use prod"), /sign in/);
        assert.equal(await heldAccount(sh), "222222222222");
        assert.match(await sh.run("cd proj"), /vaultsh: dev until .*, from .*proj\/\.awsvault/);
        assert.equal(await heldProfile(sh), "dev");
        await sh.run("cd ..");
        assert.equal(await heldProfile(sh), "prod");
        assert.equal(local.signIns(), 1);

        // short role credentials; AWS stops honouring the access token: the prompt refreshes
        sso.roleCredentialsTtl = MIN_TTL + 6;
        await sh.run("vaultsh clear prod && vaultsh use prod");
        const short = (await sh.awsEnv()).AWS_ACCESS_KEY_ID;
        sso.sso.expireAccessTokens(sso.now().getTime());
        await untilDue(sh);
        assert.deepEqual(said(await sh.run("")), [], "silent renewal");
        assert.notEqual((await sh.awsEnv()).AWS_ACCESS_KEY_ID, short);
        assert.equal(local.refreshes(), 1);
        assert.equal(local.signIns(), 1);

        // the sign-in ends: one notice naming vaultsh sso login, the shell left alone
        assert.match(await sh.run(`vaultsh sso logout ${SESSION}`), /signed out of /);
        const held = (await sh.awsEnv()).AWS_ACCESS_KEY_ID;
        await untilDue(sh);
        assert.deepEqual(said(await sh.run("")), [
          "vaultsh: prod's credentials expire in 1 min; renewing them needs a new IAM Identity " +
          `Center sign-in: run 'vaultsh sso login ${SESSION}'`,
        ]);
        assert.deepEqual(said(await sh.run("")), [], "one notice");
        assert.equal((await sh.awsEnv()).AWS_ACCESS_KEY_ID, held);
        sso.roleCredentialsTtl = 3600;

        // `aws sso login` signed in meanwhile: its cached token is used
        await local.writeAwsCliToken(box);
        await sh.run("vaultsh use dev");
        assert.equal(await heldAccount(sh), "111111111111");
        assert.equal(local.signIns(), 1);

        // populate, with the same token
        assert.match(
          await sh.run(`vaultsh sso populate ${SESSION}`),
          /added 2 profiles to ~\/\.aws\/config: development-readonlyaccess, sandbox-administratoraccess/,
        );
        await sh.run("vaultsh use sandbox-administratoraccess");
        assert.equal(await heldAccount(sh), "333333333333");
        assert.equal(local.signIns(), 1);

        // a denied sign-in: one line, status 1, the shell as it was
        if (pkce) await Deno.writeTextFile(decision, "deny\n");
        else sso.userWill({ decision: "deny" });
        const denied = await sh.run(`vaultsh sso login ${SESSION}; ${SYNTAX[shell].status}`);
        assert.match(
          denied,
          /^vaultsh: sso-session "demo": the sign-in was denied in the browser$/m,
        );
        assert.match(denied, /^status=1$/m);
        assert.equal(await heldProfile(sh), "sandbox-administratoraccess");
      } finally {
        sso.roleCredentialsTtl = 3600;
      }
    },
  });
}
