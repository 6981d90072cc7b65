/**
 * `vaultsh login` (issue 6, item 2): the console sign-in URL built as aws-vault builds it, checked
 * against the local federation endpoint, which trades only role or federated-user credentials
 * for a sign-in token and accepts that token at its `login` action.
 */
import assert from "node:assert/strict";
import {
  ALLOW_ALL_POLICY,
  consoleDestination,
  federationName,
  partitionFor,
} from "../src/aws/console_signin.ts";
import { needs } from "./support/needs.ts";
import type { RunResult, Sandbox } from "./support/sandbox.ts";
import { seeded, type SeedWorld } from "./support/seed_world.ts";

const KEYRING = ["dbus-daemon", "gnome-keyring-daemon"];

// ---- URL parts ----------------------------------------------------------------------------------

Deno.test("partitionFor() takes the partition from the ARN, else from the region", () => {
  const aws = partitionFor("arn:aws:iam::111111111111:role/r", "cn-north-1");
  assert.equal(aws.federation, "https://signin.aws.amazon.com/federation");
  assert.equal(aws.console, "console.aws.amazon.com");
  const cn = partitionFor("arn:aws-cn:iam::111111111111:role/r", undefined);
  assert.equal(cn.federation, "https://signin.amazonaws.cn/federation");
  assert.equal(cn.console, "console.amazonaws.cn");
  assert.equal(
    partitionFor(undefined, "us-gov-west-1").federation,
    "https://signin.amazonaws-us-gov.com/federation",
  );
  assert.equal(partitionFor(undefined, "cn-northwest-1").console, "console.amazonaws.cn");
  assert.equal(partitionFor(undefined, undefined).console, "console.aws.amazon.com");
  assert.throws(
    () => partitionFor("arn:aws-iso:iam::111111111111:role/r", undefined),
    /no console federation endpoint for partition aws-iso/,
  );
});

Deno.test("consoleDestination() opens the region's console home, or --path in that region", () => {
  const domain = "console.aws.amazon.com";
  assert.equal(
    consoleDestination(domain, "eu-west-1", undefined),
    "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1",
  );
  assert.equal(
    consoleDestination(domain, "eu-west-1", "/s3/home"),
    "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1",
  );
  assert.equal(
    consoleDestination(domain, "eu-west-1", "cloudwatch/home?x=1#logs"),
    "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?x=1#logs&region=eu-west-1",
  );
  assert.equal(consoleDestination(domain, undefined, undefined), "https://console.aws.amazon.com/");
  assert.equal(
    consoleDestination(domain, undefined, "iam/home"),
    "https://console.aws.amazon.com/iam/home",
  );
});

Deno.test("federationName() names IAM users (≤ 32 chars) and leaves roles alone", () => {
  assert.equal(federationName("arn:aws:iam::000000000000:user/jumpuser"), "jumpuser");
  assert.equal(federationName("arn:aws:iam::000000000000:user/team/ops/alice"), "alice");
  assert.equal(
    federationName(`arn:aws:iam::000000000000:user/${"n".repeat(40)}`),
    "n".repeat(32),
  );
  assert.equal(federationName("arn:aws:iam::000000000000:user/a"), "a-vaultsh");
  assert.equal(federationName("arn:aws:iam::000000000000:root"), "root");
  assert.equal(federationName("arn:aws:sts::1:assumed-role/role_name/s"), undefined);
  assert.equal(federationName("arn:aws:sts::1:federated-user/bob"), undefined);
  assert.throws(() => federationName("arn:aws:iam::1:group/x"), /cannot sign in as/);
});

// ---- the installed vaultsh against the local federation endpoint --------------------------------

/** The seed world with login pointed at the stand-in's federation endpoint, codes given by hand. */
const LOGIN_WORLD = { mfaProcess: false, federation: true, mfaCode: false } as const;

/** `vaultsh login <args>` in the seed world (codes go on the command line). */
function login(world: SeedWorld, args: string[], env: Record<string, string> = {}) {
  return world.vaultsh(["login", ...args], { env });
}

interface SigninUrl {
  readonly endpoint: string;
  readonly params: URLSearchParams;
}

function parseSigninUrl(result: RunResult): SigninUrl {
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split("\n");
  assert.equal(lines.length, 2, "one line on stdout");
  const url = new URL(lines[0]!);
  return { endpoint: `${url.origin}${url.pathname}`, params: url.searchParams };
}

/** Follows the URL as the browser would; the endpoint's login page names who signed in. */
async function signIn(url: string): Promise<string> {
  const response = await fetch(url);
  const body = await response.text();
  assert.equal(response.status, 200, body);
  return body;
}

Deno.test({
  name: "login --stdout prints a sign-in URL for a role that the federation endpoint accepts",
  ...needs(...KEYRING),
  fn: seeded(LOGIN_WORLD, async (world, sts) => {
    const result = await login(world, [
      "account_b",
      "--stdout",
      "--mfa-token",
      await sts.freshTotp(),
    ]);
    const { endpoint, params } = parseSigninUrl(result);
    assert.equal(endpoint, sts.federationUrl);
    assert.equal(params.get("Action"), "login");
    assert.equal(params.get("Issuer"), "vaultsh");
    assert.equal(
      params.get("Destination"),
      "https://ap-northeast-1.console.aws.amazon.com/console/home?region=ap-northeast-1",
    );
    const token = params.get("SigninToken") ?? "";
    assert.ok(token.length > 20);
    assert.deepEqual([...params.keys()], ["Action", "Issuer", "Destination", "SigninToken"]);
    assert.ok(!result.stderr.includes(token), "the sign-in token is never logged");

    const page = await signIn(result.stdout.trim());
    assert.match(page, /Signed in as arn:aws:sts::222222222222:assumed-role\/role_name\//);
    // the role's own credentials went to the endpoint: no federation token needed
    const [exchange] = sts.calls.filter((call) => call.action === "getSigninToken");
    assert.equal(exchange?.status, 200);
    assert.equal(sts.session(exchange.accessKeyId!)?.kind, "role");
    assert.equal(sts.count("GetFederationToken"), 0);
    assert.equal(sts.count("GetCallerIdentity"), 0);
  }),
});

Deno.test({
  name:
    "login for a plain IAM user signs in through GetFederationToken made with its long-term key",
  ...needs(...KEYRING),
  fn: seeded(LOGIN_WORLD, async (world, sts) => {
    const result = await login(world, ["jumpuser", "--stdout"]);
    const { params } = parseSigninUrl(result);
    const page = await signIn(result.stdout.trim());
    assert.match(page, /Signed in as arn:aws:sts::000000000000:federated-user\/jumpuser/);

    assert.equal(sts.count("GetSessionToken"), 0, "GetFederationToken refuses session credentials");
    const identity = sts.calls.find((call) => call.action === "GetCallerIdentity");
    const federation = sts.calls.find((call) => call.action === "GetFederationToken");
    assert.equal(identity?.accessKeyId, sts.demo.accessKeyId);
    assert.equal(federation?.accessKeyId, sts.demo.accessKeyId);
    assert.equal(federation?.status, 200);
    assert.equal(federation?.name, "jumpuser");
    assert.equal(federation?.durationSeconds, 3600);
    assert.equal(federation?.params.Policy, ALLOW_ALL_POLICY);
    const exchange = sts.calls.find((call) => call.action === "getSigninToken");
    assert.equal(sts.session(exchange!.accessKeyId!)?.kind, "federated");
    assert.ok(!result.stderr.includes(params.get("SigninToken")!));
  }),
});

Deno.test({
  name: "login --duration, --region and --path shape the federation token and the destination",
  ...needs(...KEYRING),
  fn: seeded(LOGIN_WORLD, async (world, sts) => {
    const result = await login(world, [
      "jumpuser",
      "--stdout",
      "--duration",
      "2h",
      "--region",
      "eu-west-1",
      "--path",
      "s3/home",
    ]);
    const { params } = parseSigninUrl(result);
    assert.equal(
      params.get("Destination"),
      "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1",
    );
    assert.equal(
      sts.calls.find((call) => call.action === "GetFederationToken")?.durationSeconds,
      7200,
    );
    await signIn(result.stdout.trim());
  }),
});

/** A fake xdg-open in its own directory, and the PATH that finds it first. */
async function fakeOpener(box: Sandbox, script: string): Promise<Record<string, string>> {
  const bin = `${box.root}/fake-bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(`${bin}/xdg-open`, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return { PATH: `${bin}:${box.env.PATH}`, DISPLAY: ":99" };
}

Deno.test({
  name: "login opens the console through a private redirect page, never with the URL in argv",
  ...needs(...KEYRING),
  fn: seeded(LOGIN_WORLD, async (world, sts) => {
    const { box } = world;
    const seen = `${box.root}/opener-saw`;
    // what a browser does: read the page the opener names (and record argv and its mode)
    const env = await fakeOpener(
      box,
      `printf '%s\\n' "$#" "$1" > '${seen}'\n` +
        `page=$(printf '%s' "\${1#file://}" | sed 's/%20/ /g')\n` +
        `stat -c %a "$page" >> '${seen}'\ncat "$page" > '${seen}.html'`,
    );
    const result = await login(world, ["jumpuser"], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "", "nothing on stdout without --stdout");
    assert.match(result.stderr, /opening the AWS console in your browser/);
    const [count, arg, mode] = (await Deno.readTextFile(seen)).trim().split("\n");
    assert.equal(count, "1");
    assert.match(arg!, /^file:\/\/\/.*\.html$/);
    assert.doesNotMatch(arg!, /SigninToken|federation/);
    assert.equal(mode, "600");
    const page = arg!.slice("file://".length);
    const dir = page.slice(0, page.lastIndexOf("/"));
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700, "the page's directory is private");
    await assert.rejects(Deno.stat(page), Deno.errors.NotFound, "the page is removed afterwards");
    // the page redirects to a URL the federation endpoint accepts
    const html = await Deno.readTextFile(`${seen}.html`);
    const target = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(html)?.[1];
    assert.ok(target !== undefined, html);
    const url = target.replaceAll("&amp;", "&");
    assert.ok(url.startsWith(`${sts.federationUrl}?Action=login&Issuer=vaultsh&`));
    assert.match(await signIn(url), /Signed in as .*federated-user\/jumpuser/);
  }),
});

Deno.test({
  name: "login prints the URL on stdout, with one line saying why, when no browser can open it",
  ...needs(...KEYRING),
  fn: seeded(LOGIN_WORLD, async (world) => {
    const { box } = world;
    const cases: [string, Record<string, string>][] = [
      ["no display", { DISPLAY: "", WAYLAND_DISPLAY: "" }],
      ["no opener", { DISPLAY: ":99", PATH: "/nonexistent" }],
      ["the opener fails", await fakeOpener(box, "exit 3")],
    ];
    for (const [what, env] of cases) {
      const result = await login(world, ["jumpuser"], env);
      assert.equal(result.code, 0, `${what}: ${result.stderr}`);
      const { params } = parseSigninUrl(result);
      assert.ok(params.get("SigninToken"), what);
      assert.match(
        result.stderr,
        /vaultsh: no browser to open it in; the sign-in URL follows/,
        what,
      );
      assert.ok(!result.stderr.includes(params.get("SigninToken")!), what);
      await signIn(result.stdout.trim());
    }
  }),
});

Deno.test({
  name: "login fails in one line, without credentials in it, when the federation endpoint refuses",
  ...needs(...KEYRING),
  fn: seeded(LOGIN_WORLD, async (world, sts) => {
    sts.inject({ kind: "internal", action: "getSigninToken" });
    const refused = await login(world, ["jumpuser", "--stdout"]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, "");
    assert.match(
      refused.stderr,
      /\nvaultsh: console sign-in for "jumpuser": 127\.0\.0\.1:\d+ refused getSigninToken \(HTTP 500\)\n$/,
    );

    // nothing listens there: fetch's own message would quote the URL, and so the keys
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = closed.addr.port;
    closed.close();
    const unreachable = await login(world, ["jumpuser", "--stdout"], {
      VAULTSH_FEDERATION_URL: `http://127.0.0.1:${port}/federation`,
    });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach 127\.0\.0\.1:\d+/);
    for (const secret of [sts.demo.secretAccessKey, "Session=", "sessionKey"]) {
      assert.ok(!unreachable.stderr.includes(secret), secret);
      assert.ok(!refused.stderr.includes(secret), secret);
    }
  }),
});

Deno.test({
  name: "login --help says an IAM user signs in with an allow-all federation policy",
  ...needs(...KEYRING),
  fn: seeded(LOGIN_WORLD, async (world) => {
    const help = await login(world, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /GetFederationToken with an allow-all session policy/);
    assert.match(help.stdout, /--stdout/);
  }),
});
