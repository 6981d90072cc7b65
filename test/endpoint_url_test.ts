/**
 * Endpoint overrides (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM, endpoint_url,
 * VAULTSH_FEDERATION_URL) carry keys, session tokens and MFA codes: plain http:// is for a local
 * endpoint (tests, `deno task sts`) only, never across a network.
 */
import assert from "node:assert/strict";
import { checkEndpointUrl } from "../src/aws/endpoint_url.ts";
import { VaultshError } from "../src/errors.ts";
import { needs } from "./support/needs.ts";
import { KEYRING_TOOLS, seeded } from "./support/seed_world.ts";

Deno.test("checkEndpointUrl() takes https anywhere and http on loopback addresses only", () => {
  for (
    const url of [
      "https://sts.eu-west-1.amazonaws.com",
      "https://10.0.0.5:8443/sts",
      "http://127.0.0.1:4566",
      "http://127.8.9.10/",
      "http://localhost:4566",
      "http://[::1]:4566",
    ]
  ) {
    checkEndpointUrl(url, "AWS_ENDPOINT_URL_STS");
  }
  for (
    const url of [
      "http://sts.example.com",
      "http://10.0.0.5:4566",
      "http://localhost.example.com",
      "http://127.0.0.1.nip.io",
      "http://[::ffff:10.0.0.5]/",
      "http://0.0.0.0:4566",
    ]
  ) {
    assert.throws(() => checkEndpointUrl(url, "AWS_ENDPOINT_URL_STS"), (error: unknown) => {
      assert.ok(error instanceof VaultshError);
      assert.equal(error.what, `AWS_ENDPOINT_URL_STS ${url}`);
      assert.equal(
        error.why,
        "plain http:// is accepted only for a loopback address (127.0.0.1, ::1, localhost)",
      );
      assert.match(error.hint ?? "", /https:\/\//);
      return true;
    }, url);
  }
  assert.throws(() => checkEndpointUrl("ftp://x", "endpoint"), /not an http\(s\) URL/);
  assert.throws(() => checkEndpointUrl("sts", "endpoint"), /not a URL/);
});

Deno.test({
  name: "an http:// endpoint across the network fails in one line before an MFA code is asked for",
  ...needs(...KEYRING_TOOLS),
  fn: seeded(async (world) => {
    for (
      const env of [
        { AWS_ENDPOINT_URL_STS: "http://sts.example.test" },
        { AWS_ENDPOINT_URL_STS: "", AWS_ENDPOINT_URL: "http://10.1.2.3:4566" },
      ]
    ) {
      const result = await world.vaultsh(["export", "account_a"], { env });
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, "");
      const [line, hint, ...rest] = result.stderr.trimEnd().split("\n");
      assert.deepEqual(rest, []);
      assert.match(
        line!,
        /^vaultsh: STS endpoint http:\/\/\S+: plain http:\/\/ is accepted only for a loopback/,
      );
      assert.match(hint!, /AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL/);
    }
    assert.equal(await world.mfaAsks(), 0, "no MFA code was asked for");
    const login = await world.vaultsh(["login", "jumpuser", "--stdout"], {
      env: { VAULTSH_FEDERATION_URL: "http://signin.example.test/federation" },
    });
    assert.equal(login.code, 1, login.stderr);
    assert.match(
      login.stderr,
      /^vaultsh: VAULTSH_FEDERATION_URL http:\/\/signin\.example\.test\/federation: plain http/m,
    );
  }),
});
