/** planPopulate (src/sso/populate_plan.ts) and listAssignments against the local portal. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { listAssignments } from "../src/sso/list_assignments.ts";
import { planPopulate, type PopulateAccount } from "../src/sso/populate_plan.ts";
import { ssoFixture } from "./support/sso_fixture.ts";

const START_URL = "https://d-1234567890.awsapps.com/start";

const ACCOUNTS: PopulateAccount[] = [
  {
    accountId: "111111111111",
    accountName: "Development",
    roles: ["AdministratorAccess", "ReadOnlyAccess"],
  },
  { accountId: "222222222222", accountName: "Production", roles: ["ReadOnlyAccess"] },
];

function plan(configText: string, accounts = ACCOUNTS, region?: string) {
  return planPopulate({ configText, sessionName: "corp", startUrl: START_URL, accounts, region });
}

Deno.test("planPopulate() appends a section per account/role, named after account and role", () => {
  const config = "[sso-session corp]\nsso_start_url = " + START_URL + "\nsso_region = eu-west-1\n";
  const result = plan(config, ACCOUNTS, "eu-west-1");
  assert.equal(
    result.text,
    config + "\n" +
      "[profile development-administratoraccess]\nsso_session = corp\n" +
      "sso_account_id = 111111111111\nsso_role_name = AdministratorAccess\nregion = eu-west-1\n\n" +
      "[profile development-readonlyaccess]\nsso_session = corp\n" +
      "sso_account_id = 111111111111\nsso_role_name = ReadOnlyAccess\nregion = eu-west-1\n\n" +
      "[profile production-readonlyaccess]\nsso_session = corp\n" +
      "sso_account_id = 222222222222\nsso_role_name = ReadOnlyAccess\nregion = eu-west-1\n",
  );
  assert.deepEqual(result.added.map((p) => p.name), [
    "development-administratoraccess",
    "development-readonlyaccess",
    "production-readonlyaccess",
  ]);
});

Deno.test("planPopulate() run again on its own result adds nothing", () => {
  const first = plan("");
  assert.equal(first.added.length, 3);
  assert.ok(!first.text.startsWith("\n"), "no blank line at the top of a new file");
  const second = plan(first.text);
  assert.equal(second.text, first.text);
  assert.deepEqual(second.added, []);
  assert.deepEqual(second.existing.map((p) => p.name), first.added.map((p) => p.name));
});

Deno.test("planPopulate() skips pairs an existing profile covers, by sso_session or by a legacy start URL", () => {
  const config = [
    "[profile mine]",
    "sso_session = corp # my own name",
    "SSO_Account_Id = 111111111111",
    "sso_role_name = AdministratorAccess",
    "[profile legacy]",
    `sso_start_url = ${START_URL}/`,
    "sso_region = eu-west-1",
    "sso_account_id = 222222222222",
    "sso_role_name = ReadOnlyAccess",
    "[profile other-session]",
    "sso_session = elsewhere",
    "sso_account_id = 111111111111",
    "sso_role_name = ReadOnlyAccess",
    "",
  ].join("\n");
  const result = plan(config);
  assert.deepEqual(result.added.map((p) => `${p.name} ${p.accountId} ${p.roleName}`), [
    "development-readonlyaccess 111111111111 ReadOnlyAccess",
  ]);
  assert.deepEqual(result.existing.map((p) => p.name), ["mine", "legacy"]);
});

Deno.test("planPopulate() avoids names that are taken: account id, then a number", () => {
  const config = "[profile development-readonlyaccess]\nregion = us-east-1\n" +
    "[profile development-readonlyaccess-111111111111]\n";
  const accounts = [
    { accountId: "111111111111", accountName: "Development", roles: ["ReadOnlyAccess"] },
    // another account with the same name
    { accountId: "333333333333", accountName: "development", roles: ["ReadOnlyAccess"] },
    // a name with nothing usable in it
    { accountId: "444444444444", accountName: "日本", roles: ["Admin"] },
  ];
  assert.deepEqual(plan(config, accounts).added.map((p) => p.name), [
    "development-readonlyaccess-111111111111-2",
    "development-readonlyaccess-333333333333",
    "444444444444-admin",
  ]);
});

Deno.test("planPopulate() leaves every existing byte alone: no final newline, CRLF, comments", () => {
  const crlf = "; top comment\r\n[default]\r\nregion = us-east-1";
  const result = plan(crlf);
  assert.ok(result.text.startsWith(crlf));
  assert.ok(
    result.text.slice(crlf.length).startsWith(
      "\r\n\r\n[profile development-administratoraccess]\r\nsso_session = corp\r\n",
    ),
  );
  assert.ok(!/[^\r]\n/.test(result.text), "CRLF file gets CRLF lines");
});

Deno.test("planPopulate() never changes the text it was given, and is idempotent, for any config", () => {
  const line = fc.oneof(
    fc.constantFrom("[default]", "[profile a]", "[sso-session corp]", "  nested = 1", "# c", ""),
    fc.string({ maxLength: 30 }).filter((s) => !s.includes("\r")),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), fc.boolean(), (lines, finalNewline) => {
      const text = lines.join("\n") + (finalNewline ? "\n" : "");
      const first = plan(text);
      assert.ok(first.text.startsWith(text));
      const second = plan(first.text);
      assert.equal(second.text, first.text);
    }),
  );
});

Deno.test("listAssignments() lists every account with its roles from the portal", async () => {
  await using sso = await ssoFixture();
  sso.server.userWill({ decision: "approve" });
  const token = await sso.tokenSource().accessToken({ interactive: true });
  const accounts = await listAssignments(sso.deps().portal(sso.session), token.accessToken);
  assert.deepEqual(accounts, [
    {
      accountId: "111111111111",
      accountName: "Development",
      roles: ["AdministratorAccess", "ReadOnlyAccess"],
    },
    { accountId: "222222222222", accountName: "Production", roles: ["ReadOnlyAccess"] },
    { accountId: "333333333333", accountName: "Sandbox", roles: ["AdministratorAccess"] },
  ]);
  assert.deepEqual(
    planPopulate({ configText: "", sessionName: "dev", startUrl: sso.server.startUrl, accounts })
      .added.map((p) => p.name),
    [
      "development-administratoraccess",
      "development-readonlyaccess",
      "production-readonlyaccess",
      "sandbox-administratoraccess",
    ],
  );
});
