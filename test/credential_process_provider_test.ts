/**
 * CredentialProcessProvider: a profile's credential_process run through the real /bin/sh, and
 * every way its output can be wrong ending in one line that names the profile.
 */
import assert from "node:assert/strict";
import { CredentialProcessProvider } from "../src/credentials/credential_process_provider.ts";
import { VaultshError } from "../src/errors.ts";

const ENV = { PATH: "/usr/bin:/bin" };

/** A provider whose credential_process prints `output` (which holds no single quote). */
function printing(output: string): CredentialProcessProvider {
  assert.ok(!output.includes("'"));
  return new CredentialProcessProvider("proc", `printf '%s' '${output}'`, ENV);
}

function credentialsJson(fields: Record<string, unknown>): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: "ASIAPROCESS",
    SecretAccessKey: "process-secret",
    ...fields,
  });
}

/** Rejects with a VaultshError whose message is exactly `message`. */
async function assertFails(provider: CredentialProcessProvider, message: string): Promise<void> {
  await assert.rejects(provider.retrieve(), (error) => {
    assert.ok(error instanceof VaultshError, String(error));
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("retrieve() returns the credentials credential_process prints", async () => {
  const expiration = new Date(Date.now() + 3600_000);
  const provider = printing(
    credentialsJson({ SessionToken: "token", Expiration: expiration.toISOString() }),
  );
  assert.deepEqual(await provider.retrieve(), {
    accessKeyId: "ASIAPROCESS",
    secretAccessKey: "process-secret",
    sessionToken: "token",
    expiration: new Date(expiration.toISOString()),
  });
});

Deno.test("retrieve() names the profile and the status when credential_process fails", async () => {
  await assertFails(
    new CredentialProcessProvider("proc", "exit 3", ENV),
    'profile "proc": credential_process exited with status 3',
  );
});

Deno.test("retrieve() names the profile when credential_process prints no JSON", async () => {
  await assertFails(
    printing("AccessKeyId=ASIA\n"),
    'profile "proc": credential_process did not print JSON',
  );
});

for (const [output, shown] of [["null", "null"], ["[]", "an array"], ["42", "a number"]]) {
  Deno.test(`retrieve() names the profile when credential_process prints ${output}`, async () => {
    await assertFails(
      printing(output!),
      `profile "proc": credential_process printed ${shown}, not a JSON object`,
    );
  });
}

Deno.test("retrieve() refuses credentials that have already expired", async () => {
  await assertFails(
    printing(credentialsJson({ Expiration: "2020-01-01T00:00:00Z" })),
    'profile "proc": credential_process printed credentials that expired at ' +
      "2020-01-01T00:00:00.000Z",
  );
});

Deno.test("retrieve() names the profile when Expiration is not a date", async () => {
  await assertFails(
    printing(credentialsJson({ Expiration: "tomorrow" })),
    'profile "proc": credential_process printed an invalid Expiration "tomorrow"',
  );
});
