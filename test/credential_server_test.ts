/**
 * The local credential server (issue 6, item 1). First the HTTP endpoint in this process, with a
 * credential source the test controls (and a clock it moves); then the installed vaultsh end to
 * end: a private gnome-keyring, the local STS, background servers shared through the registry,
 * and the consumers nobody here wrote: the AWS CLI and the AWS JS SDK's default chain.
 */
import assert from "node:assert/strict";
import type { Credentials } from "../src/aws/credentials.ts";
import { MfaRequired } from "../src/credentials/mfa.ts";
import { CredentialServer, type ServerLog } from "../src/server/credential_server.ts";
import { serverEnv } from "../src/server/server_env.ts";
import { needs } from "./support/needs.ts";
import { runProgram } from "./support/run_program.ts";
import type { RunResult } from "./support/sandbox.ts";
import { parseEnvLines, SeedWorld } from "./support/seed_world.ts";
import { REPO_ROOT } from "./support/vaultsh_bin.ts";

const AWS = "/usr/bin/aws";
const KEYRING = ["dbus-daemon", "gnome-keyring-daemon"];
const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const ROLE_B = /^arn:aws:sts::222222222222:assumed-role\/role_name\//;

// ---- the endpoint, in process -------------------------------------------------------------------

interface Harness {
  readonly server: CredentialServer;
  readonly calls: () => number;
  readonly logs: { info: string[]; warn: string[] };
  /** Moves the server's clock (ms). */
  advance(ms: number): void;
}

/** A server whose source hands out ASIA1, ASIA2, ... each valid `lifetimeMs` from "now". */
function harness(options: {
  lifetimeMs?: number;
  minTtl?: number;
  idleSeconds?: number;
  fail?: (call: number) => Error | undefined;
  realClock?: boolean;
} = {}): Harness {
  let offset = 0;
  const now = options.realClock === true ? Date.now : () => Date.now() + offset;
  let calls = 0;
  const logs = { info: [] as string[], warn: [] as string[] };
  const log: ServerLog = {
    info: (message) => logs.info.push(message),
    warn: (message) => logs.warn.push(message),
  };
  const server = new CredentialServer({
    profile: "account_b",
    minTtl: options.minTtl ?? 30,
    idleSeconds: options.idleSeconds ?? 0,
    mfaHint: "vaultsh server --detach account_b",
    log,
    now,
    source: () => {
      calls += 1;
      const failure = options.fail?.(calls);
      if (failure !== undefined) return Promise.reject(failure);
      const credentials: Credentials = {
        accessKeyId: `ASIA${calls}`,
        secretAccessKey: `secret${calls}`,
        sessionToken: `token${calls}`,
        expiration: new Date(now() + (options.lifetimeMs ?? 100_000)),
      };
      return Promise.resolve(credentials);
    },
  });
  return { server, calls: () => calls, logs, advance: (ms) => offset += ms };
}

async function get(
  server: CredentialServer,
  headers: Record<string, string> = { authorization: server.token },
): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(server.url, { headers });
  return { status: response.status, body: await response.json() };
}

/** A request written by hand, so the Host header is whatever the test says. */
async function rawGet(
  port: number,
  host: string,
  token: string,
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${token}\r\n` +
      "Connection: close\r\n\r\n";
    await conn.write(new TextEncoder().encode(request));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const text = new TextDecoder().decode(
      chunks.reduce((all, chunk) => new Uint8Array([...all, ...chunk]), new Uint8Array()),
    );
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    conn.close();
  }
}

Deno.test("CredentialServer serves the ECS shape to a request carrying its token", async () => {
  const { server } = harness();
  try {
    const { status, body } = await get(server);
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), [
      "AccessKeyId",
      "Expiration",
      "SecretAccessKey",
      "Token",
    ]);
    assert.equal(body.AccessKeyId, "ASIA1");
    assert.equal(body.Token, "token1");
    assert.match(body.Expiration!, RFC3339_UTC);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  } finally {
    await server.stop("test over");
  }
});

Deno.test("CredentialServer tokens are 32 random bytes in base64url, new for every server", async () => {
  const a = harness().server;
  const b = harness().server;
  try {
    assert.match(a.token, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a.token, b.token);
    assert.equal(atob(a.token.replace(/-/g, "+").replace(/_/g, "/") + "=").length, 32);
  } finally {
    await a.stop("test over");
    await b.stop("test over");
  }
});

Deno.test("CredentialServer answers 403 for a wrong, missing or 'Bearer'-prefixed token", async () => {
  const { server, calls } = harness();
  try {
    for (
      const headers of [
        {},
        { authorization: "" },
        { authorization: server.token.slice(0, -1) },
        { authorization: server.token + "x" },
        { authorization: `Bearer ${server.token}` },
      ]
    ) {
      const { status, body } = await get(server, headers);
      assert.equal(status, 403, JSON.stringify(headers));
      assert.equal(body.Message, "invalid Authorization token");
    }
    assert.equal(calls(), 0, "no credentials fetched for a refused request");
  } finally {
    await server.stop("test over");
  }
});

Deno.test("CredentialServer refuses a Host other than 127.0.0.1:<port> or localhost:<port>", async () => {
  const { server, calls } = harness();
  try {
    const port = server.port;
    for (
      const host of [
        "attacker.example",
        `attacker.example:${port}`,
        "127.0.0.1",
        `127.0.0.1:${port + 1}`,
        `169.254.170.2:${port}`,
      ]
    ) {
      const { status, body } = await rawGet(port, host, server.token);
      assert.equal(status, 403, host);
      assert.match(body, /unexpected Host header/);
      assert.doesNotMatch(body, /ASIA/);
    }
    assert.equal(calls(), 0);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      const { status, body } = await rawGet(port, host, server.token);
      assert.equal(status, 200, host);
      assert.match(body, /"AccessKeyId":"ASIA1"/);
    }
  } finally {
    await server.stop("test over");
  }
});

Deno.test("CredentialServer refuses non-loopback peers, browsers, other methods and paths", async () => {
  const { server, calls } = harness();
  try {
    const url = server.url;
    const auth = { authorization: server.token, host: new URL(url).host };
    const lan: Deno.NetAddr = { transport: "tcp", hostname: "192.168.1.20", port: 50000 };
    const refused = await server.handle(new Request(url, { headers: auth }), lan);
    assert.equal(refused.status, 403);
    assert.deepEqual(await refused.json(), { Message: "only local clients are served" });

    const browser = await get(server, {
      authorization: server.token,
      origin: "https://evil.example",
    });
    assert.equal(browser.status, 403);
    const post = await fetch(url, { method: "POST", headers: { authorization: server.token } });
    assert.equal(post.status, 405);
    await post.body?.cancel();
    const other = await fetch(`${url}role-arn/x`, { headers: { authorization: server.token } });
    assert.equal(other.status, 404);
    await other.body?.cancel();
    assert.equal(calls(), 0);

    const local: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 50000 };
    const ok = await server.handle(new Request(url, { headers: auth }), local);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await server.stop("test over");
  }
});

Deno.test("CredentialServer keeps credentials until the min-TTL window, then renews before serving", async () => {
  const { server, calls, advance } = harness({ lifetimeMs: 100_000, minTtl: 30 });
  try {
    assert.equal((await get(server)).body.AccessKeyId, "ASIA1");
    advance(50_000); // 50 s left: outside the window
    assert.equal((await get(server)).body.AccessKeyId, "ASIA1");
    assert.equal(calls(), 1);
    advance(25_000); // 25 s left: inside the 30 s window
    const renewed = await get(server);
    assert.equal(renewed.body.AccessKeyId, "ASIA2");
    assert.equal(calls(), 2);
    const left = Date.parse(renewed.body.Expiration!) - (Date.now() + 75_000);
    assert.ok(left >= 30_000, `served with ${left} ms left`);
  } finally {
    await server.stop("test over");
  }
});

Deno.test("CredentialServer serves still-valid credentials while renewal needs MFA, then 503, logging once", async () => {
  const mfa = new MfaRequired({
    profile: "jumpuser",
    serial: "arn:aws:iam::000000000000:mfa/jumpuser",
  });
  let broken = false;
  const { server, calls, logs, advance } = harness({
    lifetimeMs: 100_000,
    minTtl: 30,
    fail: () => broken ? mfa : undefined,
  });
  try {
    assert.equal((await get(server)).body.AccessKeyId, "ASIA1");
    broken = true;
    advance(75_000); // inside the window, renewal impossible: 25 s of valid credentials left
    assert.equal((await get(server)).body.AccessKeyId, "ASIA1");
    assert.equal(calls(), 2);
    advance(5_000); // a failure moments ago: no new attempt yet
    assert.equal((await get(server)).body.AccessKeyId, "ASIA1");
    assert.equal(calls(), 2);
    advance(11_000);
    assert.equal((await get(server)).body.AccessKeyId, "ASIA1");
    assert.equal(calls(), 3);
    advance(10_000); // expired
    const expired = await get(server);
    assert.equal(expired.status, 503);
    assert.match(
      expired.body.Message!,
      /needs an MFA code; run 'vaultsh server --detach account_b'/,
    );
    assert.equal((await get(server)).status, 503);
    assert.equal(logs.warn.length, 1, logs.warn.join("\n"));
    assert.match(logs.warn[0]!, /needs an MFA code/);

    broken = false;
    server.forgetFailure(); // a shell found the server after entering a new code
    const back = await get(server);
    assert.equal(back.status, 200);
    assert.match(back.body.AccessKeyId!, /^ASIA\d$/);
  } finally {
    await server.stop("test over");
  }
});

Deno.test("CredentialServer answers 500 with the engine's message when renewal fails otherwise", async () => {
  const { server } = harness({ fail: () => new Error("STS AssumeRole: AccessDenied") });
  try {
    const { status, body } = await get(server);
    assert.equal(status, 500);
    assert.match(body.Message!, /AccessDenied/);
  } finally {
    await server.stop("test over");
  }
});

Deno.test("CredentialServer exits when idle, but not before what it handed out has expired", async () => {
  const unused = harness({ idleSeconds: 1, realClock: true });
  const started = Date.now();
  assert.equal(await unused.server.finished, "idle");
  const unusedFor = Date.now() - started;
  assert.ok(unusedFor >= 900 && unusedFor < 15_000, `exited after ${unusedFor} ms`);

  const used = harness({ idleSeconds: 1, realClock: true, lifetimeMs: 4_000, minTtl: 0 });
  const served = await get(used.server);
  const expires = Date.parse(served.body.Expiration!);
  assert.equal(await used.server.finished, "idle");
  assert.ok(Date.now() >= expires, "exited while a client could still come back to renew");
});

Deno.test("serverEnv() exports the container variables and unsets keys and profiles", () => {
  const env = serverEnv({
    url: "http://127.0.0.1:4242/",
    token: "t0ken",
    profile: "account_b",
    region: "ap-northeast-1",
  });
  assert.equal(env.AWS_CONTAINER_CREDENTIALS_FULL_URI, "http://127.0.0.1:4242/");
  assert.equal(env.AWS_CONTAINER_AUTHORIZATION_TOKEN, "t0ken");
  assert.equal(env.AWS_REGION, "ap-northeast-1");
  assert.equal(env.AWS_DEFAULT_REGION, "ap-northeast-1");
  assert.equal(env.AWS_VAULT, "account_b");
  assert.equal(env.VAULTSH_PROFILE, "account_b");
  for (
    const name of [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_SECURITY_TOKEN",
      "AWS_CREDENTIAL_EXPIRATION",
      "AWS_PROFILE",
      "AWS_DEFAULT_PROFILE",
    ] as const
  ) {
    assert.equal(env[name], null, name);
  }
  const noRegion = serverEnv({ url: "u", token: "t", profile: "p", region: undefined });
  assert.equal(noRegion.AWS_REGION, null);
});

// ---- the installed vaultsh, end to end ------------------------------------------------------------

/** A keyring sandbox with the seed stored; servers it started are stopped on dispose. */
/**
 * The seed world for the server tests (the demo key stored, no mfa_process: codes go on the
 * command line), which stops every background server in its registry when disposed.
 */
async function serverWorld(env: Record<string, string> = {}): Promise<SeedWorld> {
  const world = await SeedWorld.create({ env, mfaProcess: false });
  world.defer(async () => {
    for (const row of await servers(world)) {
      const pid = Number(row[3]);
      if (Number.isInteger(pid) && pid > 0) killQuietly(pid);
    }
  });
  return world;
}

/** `vaultsh server --detach`: the variables it printed. */
async function detach(
  world: SeedWorld,
  profile: string,
  extra: string[] = [],
): Promise<Record<string, string>> {
  const result = await world.vaultsh(["server", "--detach", ...extra, profile]);
  assert.equal(result.code, 0, result.stderr);
  return parseEnvLines(result.stdout);
}

/** `vaultsh server --list` without its header: one row of columns per server. */
async function servers(world: SeedWorld): Promise<string[][]> {
  const result = await world.vaultsh(["server", "--list"]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim().split("\n").slice(1).filter((line) => line !== "").map((line) =>
    line.split(/\s{2,}/)
  );
}

/** Where the registry lives: the keyring harness sets XDG_RUNTIME_DIR. */
function registryDir(world: SeedWorld): string {
  return `${world.env.XDG_RUNTIME_DIR}/vaultsh/servers`;
}

function killQuietly(pid: number): void {
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    // gone already
  }
}

function alive(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("server");
  } catch {
    return false;
  }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function fetchCredentials(
  env: Record<string, string>,
): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, {
    headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! },
  });
  return { status: response.status, body: await response.json() };
}

/** Only what the container provider needs: no keys, no profile, no config to fall back on. */
function consumerEnv(server: Record<string, string>, home: string): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
    AWS_CONFIG_FILE: `${home}/no-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${home}/no-credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    AWS_CONTAINER_CREDENTIALS_FULL_URI: server.AWS_CONTAINER_CREDENTIALS_FULL_URI!,
    AWS_CONTAINER_AUTHORIZATION_TOKEN: server.AWS_CONTAINER_AUTHORIZATION_TOKEN!,
  };
}

Deno.test({
  name: "server --detach starts one background server per profile that later calls reuse",
  ...needs(...KEYRING),
  fn: async () => {
    await using world = await serverWorld();
    const { sts } = world;
    const first = await detach(world, "account_b", ["--mfa-token", await sts.freshTotp()]);
    assert.match(first.AWS_CONTAINER_CREDENTIALS_FULL_URI!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(first.AWS_CONTAINER_AUTHORIZATION_TOKEN!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(first.AWS_REGION, "ap-northeast-1");
    assert.equal(first.AWS_VAULT, "account_b");
    assert.equal(first.AWS_ACCESS_KEY_ID, undefined);

    const second = await detach(world, "account_b");
    assert.deepEqual(second, first);
    const listed = await servers(world);
    assert.equal(listed.length, 1);
    const [profile, region, url, pid] = listed[0]!;
    assert.deepEqual([profile, region, url], [
      "account_b",
      "ap-northeast-1",
      first.AWS_CONTAINER_CREDENTIALS_FULL_URI,
    ]);
    assert.ok(alive(Number(pid)));

    const served = await fetchCredentials(first);
    assert.equal(served.status, 200);
    assert.match(served.body.AccessKeyId!, /^ASIA/);
    // one MFA code, one role session: the server renews from the cache the caller filled
    assert.equal(sts.count("GetSessionToken"), 1);
    assert.equal(sts.count("AssumeRole"), 1);

    // the registry: private, and nowhere does the token sit in a file
    const dir = registryDir(world);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    const entries = await Array.fromAsync(Deno.readDir(dir));
    assert.ok(entries.some((entry) => entry.name.endsWith(".sock")));
    for (const entry of entries) {
      const info = await Deno.lstat(`${dir}/${entry.name}`);
      assert.equal(info.mode! & 0o777, 0o600, entry.name);
      if (entry.isFile) {
        const text = await Deno.readTextFile(`${dir}/${entry.name}`);
        assert.ok(!text.includes(first.AWS_CONTAINER_AUTHORIZATION_TOKEN!), entry.name);
        assert.ok(!text.includes(served.body.SecretAccessKey!), entry.name);
      }
    }

    // the real server refuses what the endpoint tests refuse
    const port = Number(new URL(url!).port);
    assert.equal(
      (await rawGet(port, `rebind.example:${port}`, second.AWS_CONTAINER_AUTHORIZATION_TOKEN!))
        .status,
      403,
    );
    const wrong = await fetchCredentials({ ...first, AWS_CONTAINER_AUTHORIZATION_TOKEN: "nope" });
    assert.equal(wrong.status, 403);

    // a server killed without cleaning up is replaced, not mistaken for a live one
    Deno.kill(Number(pid), "SIGKILL");
    await waitFor("the killed server to go", 20_000, () => Promise.resolve(!alive(Number(pid))));
    const third = await detach(world, "account_b");
    assert.notEqual(
      third.AWS_CONTAINER_AUTHORIZATION_TOKEN,
      first.AWS_CONTAINER_AUTHORIZATION_TOKEN,
    );
    assert.equal((await fetchCredentials(third)).status, 200);
    assert.equal((await servers(world)).length, 1);

    const stopped = await world.vaultsh(["server", "--stop", "account_b"]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.deepEqual(await servers(world), []);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  },
});

Deno.test({
  name: "clear and remove stop the credential servers serving what they cleared",
  ...needs(...KEYRING),
  fn: async () => {
    await using world = await serverWorld();
    const { sts } = world;
    const profiles = async () => (await servers(world)).map((row) => row[0]).sort();
    const b = await detach(world, "account_b", ["--mfa-token", await sts.freshTotp()]);
    const a = await detach(world, "account_a");
    assert.deepEqual(await profiles(), ["account_a", "account_b"]);

    const one = await world.vaultsh(["clear", "account_a"]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stderr, /stopped the credential server for account_a/);
    assert.deepEqual(await profiles(), ["account_b"]);
    await assert.rejects(fetchCredentials(a));
    assert.equal((await fetchCredentials(b)).status, 200);

    const all = await world.vaultsh(["clear"]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stderr, /stopped the credential server for account_b/);
    assert.deepEqual(await profiles(), []);
    await assert.rejects(fetchCredentials(b));

    // remove takes the key, and with it every server of a profile that used it
    const c = await detach(world, "account_c", ["--mfa-token", await sts.freshTotp()]);
    assert.equal((await fetchCredentials(c)).status, 200);
    const removed = await world.vaultsh(["remove", "jumpuser", "--force"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, /stopped the credential server for account_c/);
    assert.deepEqual(await profiles(), []);
    await assert.rejects(fetchCredentials(c));
  },
});

Deno.test({
  name:
    "server <profile> in the foreground prints its variables, is shared, and cleans up on Ctrl-C",
  ...needs(...KEYRING),
  fn: async () => {
    await using world = await serverWorld();
    const { sts, box } = world;
    const warm = await box.vaultsh(["export", "account_b", "--mfa-token", await sts.freshTotp()]);
    assert.equal(warm.code, 0, warm.stderr);
    const child = new Deno.Command(box.bin, {
      args: ["server", "account_b"],
      env: box.env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let printed = "";
    try {
      while (!printed.includes("AWS_CONTAINER_AUTHORIZATION_TOKEN=")) {
        const { value, done } = await reader.read();
        if (done) break;
        printed += value;
      }
      while (!printed.endsWith("\n")) printed += (await reader.read()).value ?? "\n";
      const env = Object.fromEntries(
        printed.trim().split("\n").map((
          line,
        ) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      assert.match(
        env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? "",
        /^http:\/\/127\.0\.0\.1:\d+\/$/,
        printed,
      );
      assert.equal((await fetchCredentials(env)).status, 200);
      // a shell asking for the profile's server gets this one, not a second
      assert.deepEqual(await detach(world, "account_b"), env);
      const again = await world.vaultsh(["server", "account_b"]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already running/);
    } finally {
      child.kill("SIGINT");
    }
    const status = await child.status;
    await reader.cancel();
    assert.equal(status.code, 0, await stderr);
    assert.deepEqual(await servers(world), []);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(registryDir(world))), []);
    assert.equal((await world.vaultsh(["server"])).code, 2);
  },
});

/**
 * A long-running AWS JS SDK process: one client, GetCallerIdentity every `intervalMs`, until the
 * file `stop` exists.
 */
const SDK_LOOP = `
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
const [endpoint, stop, interval] = Deno.args;
const client = new STSClient({ region: "ap-northeast-1", endpoint });
const stopped = () => Deno.stat(stop).then(() => true, () => false);
while (!(await stopped())) {
  try {
    const out = await client.send(new GetCallerIdentityCommand({}));
    console.log(JSON.stringify({ ok: true, arn: out.Arn }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: String(error) }));
  }
  await new Promise((resolve) => setTimeout(resolve, Number(interval)));
}
client.destroy();
`;

Deno.test({
  name: "the AWS CLI and a long-running AWS JS SDK client keep working through the server " +
    "across several credential expirations",
  ...needs(...KEYRING, AWS),
  fn: async () => {
    const MIN_TTL = 5;
    await using world = await serverWorld({ VAULTSH_MIN_TTL: String(MIN_TTL) });
    const { sts, box } = world;
    // the MFA session lasts; the roles the server serves live 20 s
    const warm = await box.vaultsh(["export", "jumpuser", "--mfa-token", await sts.freshTotp()]);
    assert.equal(warm.code, 0, warm.stderr);
    sts.expiresIn(20);
    const server = await detach(world, "account_b");

    const consumerHome = `${box.root}/consumer`;
    await Deno.mkdir(consumerHome);
    const script = `${box.root}/sdk_loop.ts`;
    await Deno.writeTextFile(script, SDK_LOOP);
    const env = consumerEnv(server, consumerHome);
    const stop = `${box.root}/stop`;
    const sdk = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-check",
        "--cached-only",
        "--config",
        `${REPO_ROOT}/deno.json`,
        script,
        sts.url,
        stop,
        "2500",
      ],
      env: { ...env, DENO_DIR: box.env.DENO_DIR ?? await denoDir() },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();

    // meanwhile: the AWS CLI, one process per call, and the endpoint itself, until STS has seen
    // both clients use at least three role sessions (the roles live 20 s: that takes ~45 s,
    // longer on a busy machine, which only means more calls)
    const cli: RunResult[] = [];
    const served: Array<{ left: number }> = [];
    const identities = () => sts.calls.filter((call) => call.action === "GetCallerIdentity");
    const sessionsUsed = () => new Set(identities().map((call) => call.accessKeyId)).size;
    const deadline = Date.now() + 300_000;
    while (cli.length < 6 || identities().length - cli.length < 15 || sessionsUsed() < 3) {
      assert.ok(
        Date.now() < deadline,
        `after 300 s: ${cli.length} CLI calls, ${sessionsUsed()} sessions`,
      );
      cli.push(await runAws(env, sts.url));
      const answer = await fetchCredentials(server);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      // Expiration has whole seconds: allow one for the truncation
      served.push({ left: (Date.parse(answer.body.Expiration!) - Date.now()) / 1000 + 1 });
      await new Promise((resolve) => setTimeout(resolve, 4_000));
    }
    await Deno.writeTextFile(stop, "");
    const output = await sdk.output();
    const stdout = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));

    const sdkCalls = stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.ok(sdkCalls.length >= 15, `only ${sdkCalls.length} SDK calls`);
    for (const call of sdkCalls) {
      assert.equal(call.ok, true, call.error);
      assert.match(call.arn, ROLE_B);
    }
    assert.ok(cli.length >= 6, `only ${cli.length} CLI calls`);
    for (const result of cli) {
      assert.equal(result.code, 0, result.stderr);
      assert.match(JSON.parse(result.stdout).Arn, ROLE_B);
    }
    for (const { left } of served) assert.ok(left >= MIN_TTL, `served with ${left} s left`);

    // several role sessions were used, none of them expired at STS, on one MFA code
    assert.deepEqual(
      identities().filter((call) => call.status !== 200).map((call) => call.error),
      [],
    );
    assert.ok(sts.count("AssumeRole") >= 3);
    assert.equal(sts.count("GetSessionToken"), 1);
    assert.equal((await servers(world)).length, 1);
  },
});

Deno.test({
  name: "a background server exits once idle and its credentials expired, removing its entry",
  ...needs(...KEYRING),
  fn: async () => {
    await using world = await serverWorld({ VAULTSH_SERVER_IDLE: "2s", VAULTSH_MIN_TTL: "1" });
    const { sts } = world;
    sts.expiresIn(8);
    const server = await detach(world, "account_b", ["--mfa-token", await sts.freshTotp()]);
    const pid = Number((await servers(world))[0]![3]);
    const served = await fetchCredentials(server);
    assert.equal(served.status, 200);
    const expires = Date.parse(served.body.Expiration!);

    await waitFor("the idle server to exit", 60_000, () => Promise.resolve(!alive(pid)));
    assert.ok(Date.now() >= expires - 1_000, "it left before the credentials it served expired");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(registryDir(world))), []);
    assert.deepEqual(await servers(world), []);
    await assert.rejects(fetchCredentials(server));
  },
});

Deno.test({
  name: "a background server answers 503 and logs one line when renewal needs an MFA code, " +
    "and recovers once a shell enters one",
  ...needs(...KEYRING),
  fn: async () => {
    await using world = await serverWorld({ VAULTSH_MIN_TTL: "1" });
    const { sts } = world;
    sts.expiresIn(6); // the MFA session too
    const server = await detach(world, "account_b", ["--mfa-token", await sts.freshTotp()]);
    const pid = Number((await servers(world))[0]![3]);
    await new Promise((resolve) => setTimeout(resolve, 7_000));

    const first = await fetchCredentials(server);
    assert.equal(first.status, 503);
    assert.match(first.body.Message!, /MFA code/);
    assert.match(first.body.Message!, /vaultsh server --detach account_b/);
    assert.equal((await fetchCredentials(server)).status, 503);
    const logs = (await Array.fromAsync(Deno.readDir(registryDir(world))))
      .filter((entry) => entry.name.endsWith(".log"));
    assert.equal(logs.length, 1);
    const log = await Deno.readTextFile(`${registryDir(world)}/${logs[0]!.name}`);
    assert.equal(log.split("\n").filter((line) => /needs an MFA code/.test(line)).length, 1, log);
    assert.ok(!log.includes(server.AWS_CONTAINER_AUTHORIZATION_TOKEN!));

    sts.expiresIn(undefined);
    const again = await detach(world, "account_b", ["--mfa-token", await sts.freshTotp()]);
    assert.deepEqual(again, server);
    assert.ok(alive(pid));
    const recovered = await fetchCredentials(server);
    assert.equal(recovered.status, 200, JSON.stringify(recovered.body));
    assert.equal(sts.count("GetSessionToken"), 2);
  },
});

/** The AWS CLI with nothing but `env`: the container provider is its only way to credentials. */
function runAws(env: Record<string, string>, endpoint: string): Promise<RunResult> {
  return runProgram(
    AWS,
    ["sts", "get-caller-identity", "--endpoint-url", endpoint, "--region", "ap-northeast-1"],
    { env: { ...env, AWS_DEFAULT_OUTPUT: "json" }, clearEnv: true },
  );
}

async function denoDir(): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(output.stdout)).denoDir;
}
