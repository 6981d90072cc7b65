/**
 * Property tests: the parsers that read files a user (or a repository) controls never crash.
 * Whatever the input, they accept it or give one VaultshError of one line.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { AwsConfig } from "../src/aws/aws_config.ts";
import { VaultshError } from "../src/errors.ts";
import { parseMarker } from "../src/marker/marker.ts";
import { loadSettings } from "../src/settings.ts";

/** Lines that look like AWS config: sections, keys the loader knows, comments, garbage. */
const configLine = fc.oneof(
  fc.constantFrom(
    "[default]",
    "[profile a]",
    "[profile b]",
    "[profile a b]",
    "[sso-session s]",
    "[profile __proto__]",
    "[constructor]",
    "",
    "# comment",
    "; comment",
    "  nested = 1",
    "s3 =",
  ),
  fc.tuple(
    fc.constantFrom(
      "source_profile",
      "include_profile",
      "role_arn",
      "mfa_serial",
      "region",
      "duration_seconds",
      "session_tags",
      "transitive_session_tags",
      "sts_regional_endpoints",
      "credential_process",
      "endpoint_url",
      "external_id",
      "REGION",
      "Role_Arn",
    ),
    fc.oneof(
      fc.constantFrom(
        "a",
        "b",
        "default",
        "arn:aws:iam::123456789012:role/r",
        "3600",
        "k=v,x",
        "legacy",
      ),
      fc.string({ maxLength: 30 }),
    ),
    fc.constantFrom(" = ", "=", " =", "= "),
  ).map(([key, value, sep]) => `${key}${sep}${value}`),
  fc.string({ maxLength: 40, unit: "binary" }),
);

function oneLine(error: unknown): void {
  assert.ok(error instanceof VaultshError, `expected a VaultshError, got ${error}`);
  assert.ok(!error.message.includes("\n"), `one line: ${JSON.stringify(error.message)}`);
}

Deno.test("AwsConfig.load() and resolve() never crash on arbitrary config text", async () => {
  const home = await Deno.makeTempDir({ prefix: "vaultsh-property-" });
  await Deno.mkdir(`${home}/.aws`);
  const settings = loadSettings({ HOME: home });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(configLine, { maxLength: 25 }), async (lines) => {
        await Deno.writeTextFile(`${home}/.aws/config`, lines.join("\n"));
        let config: AwsConfig;
        try {
          config = await AwsConfig.load(settings);
        } catch (error) {
          oneLine(error);
          return;
        }
        for (const name of [...config.profileNames(), "a", "b", "default", "missing"]) {
          try {
            config.resolve(name);
          } catch (error) {
            oneLine(error);
          }
        }
      }),
      { numRuns: 300 },
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("parseMarker() accepts or rejects arbitrary text with one line naming the file", () => {
  const markerLine = fc.oneof(
    fc.constantFrom(
      "account_a",
      "profile = a",
      "region = eu-west-1",
      "server = true",
      "# c",
      "",
      "x = y",
    ),
    fc.string({ maxLength: 30, unit: "binary" }),
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.array(markerLine, { maxLength: 8 }).map((lines) => lines.join("\n")),
        fc.string({ maxLength: 5000, unit: "binary" }),
      ),
      (text) => {
        try {
          const marker = parseMarker(text, "/p/.awsvault");
          assert.match(marker.profile, /^[A-Za-z0-9_.@+=,-]{1,64}$/);
        } catch (error) {
          oneLine(error);
          assert.match((error as VaultshError).what, /^marker \/p\/\.awsvault/);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("parseMarker() accepts or rejects arbitrary bytes, never crashing on invalid UTF-8", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        parseMarker(bytes, "/p/.awsvault");
      } catch (error) {
        oneLine(error);
      }
    }),
    { numRuns: 2000 },
  );
});
