/**
 * parseIni() against the AWS JS SDK's own loader (`@smithy/shared-ini-file-loader`, a test-only
 * dependency): thousands of generated config and credentials files, written to disk and read by
 * both, must give exactly the same sections, keys and values.
 */
import assert from "node:assert/strict";
import { loadSharedConfigFiles } from "@smithy/shared-ini-file-loader";
import fc from "fast-check";
import { type IniFile, parseIni, SECTION_TYPES } from "../src/aws/ini_parser.ts";

/** Headers that make the SDK loader throw, which it swallows: it then reads the file as empty. */
const REFUSED = ["__proto__", "profile __proto__"];

type Sections = Record<string, Record<string, string>>;

/** The credentials file as the SDK returns it: every section, by key. */
function sdkCredentials(file: IniFile): Sections {
  if (file.headers.some((header) => REFUSED.includes(header.inner))) return {};
  return Object.fromEntries(
    [...file.sections].map(([key, values]) => [key, Object.fromEntries(values)]),
  );
}

/**
 * The config file as the SDK returns it: `[default]`, then typed sections, `profile.x` as `x`
 * (so a `[profile default]` replaces `[default]` there; vaultsh ignores it, as aws-vault does).
 */
function sdkConfig(file: IniFile): Sections {
  const all = sdkCredentials(file);
  const config: Sections = all.default === undefined ? {} : { default: all.default };
  for (const [key, values] of Object.entries(all)) {
    const type = key.slice(0, Math.max(0, key.indexOf(".")));
    if (!SECTION_TYPES.includes(type)) continue;
    config[type === "profile" ? key.slice(type.length + 1) : key] = values;
  }
  return config;
}

/**
 * Section names the loader writes onto Object.prototype or a built-in function (`[constructor]`
 * assigns to `Object.region`): comparing after that would compare a corrupted runtime.
 */
function corruptsTheLoader(file: IniFile): boolean {
  return file.headers.some((header) => {
    if (header.key === undefined || REFUSED.includes(header.inner)) return false;
    const stripped = header.key.startsWith("profile.") ? header.key.slice(8) : header.key;
    return header.key in Object.prototype || stripped in Object.prototype;
  });
}

const space = fc.constantFrom("", " ", "  ", "\t", "\u00a0", "\u3000");
const names = fc.oneof(
  fc.constantFrom(
    "a",
    "b",
    "default",
    "x.y",
    "dev-1",
    "a@b+c%d:e/f",
    "x y",
    "日本",
    "",
    "__proto__",
    "profile",
    "services",
  ),
  fc.string({ maxLength: 8 }),
);
const validHeader = fc.tuple(
  fc.constantFrom("profile ", "sso-session ", "services ", "profile\t", "profile.", "", ""),
  fc.constantFrom("a", "b", "default", "x.y", "dev-1", "a@b+c%d:e/f", '"q"', "'q'"),
  fc.constantFrom("", " # c", "  ; c", " "),
).map(([type, name, comment]) => `[${type}${name}]${comment}`);
const oddHeader = fc.oneof(
  fc.tuple(
    space,
    fc.constantFrom("profile", "sso-session", "services", "Profile", "unknown", "default", ""),
    fc.constantFrom(" ", "\t", "  ", "", ".", "\u00a0"),
    fc.constantFrom("", '"', "'", '"', "'\""),
    names,
    fc.constantFrom("", '"', "'"),
    space,
  ).map(([a, type, gap, open, name, close, b]) => `[${a}${type}${gap}${open}${name}${close}${b}]`),
  fc.constantFrom("[default]", "[ default ]", "[]", "[[a]]", "[profile a] # c", "[profile a]x"),
);
const header = fc.oneof({ arbitrary: validHeader, weight: 3 }, { arbitrary: oddHeader, weight: 1 });
const key = fc.oneof(
  fc.constantFrom(
    "region",
    "Region",
    "REGION",
    "s3",
    "max_queue_size",
    "role_arn",
    "a b",
    "__proto__",
    "キー",
    "k.k",
  ),
  fc.string({ maxLength: 6 }),
);
const value = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "x",
    "a#b",
    "a #b",
    "a ;b",
    "a\t;b",
    "'quoted'",
    '"quoted"',
    "=x",
    "a=b=c",
    "日本語",
    "012345678901",
    "[x]",
    "\u00a0y\u00a0",
  ),
  fc.string({ maxLength: 12 }),
);
const keyLine = fc.tuple(
  space,
  key,
  fc.constantFrom(" = ", "=", " =", "= ", "==", "\t=\t"),
  value,
  fc.constantFrom("", " # comment", " ; comment", "#no", "\t#tab", " #"),
).map(([indent, k, sep, v, comment]) => `${indent}${k}${sep}${v}${comment}`);
const line = fc.oneof(
  { arbitrary: header, weight: 3 },
  { arbitrary: keyLine, weight: 8 },
  {
    arbitrary: fc.constantFrom("", " ", "# c", "; c", "  # indented", "=x", "s3 =", "  nested = 1"),
    weight: 2,
  },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 1 },
  { arbitrary: fc.string({ maxLength: 20, unit: "binary" }), weight: 1 },
);
/** A whole file: lines joined by LF, CRLF or both, maybe a BOM, maybe invalid UTF-8. */
const file = fc.tuple(
  fc.tuple(fc.option(header, { freq: 5 }), fc.array(line, { maxLength: 40, size: "medium" }))
    .map(([first, rest]) => first === null ? rest : [first, ...rest]),
  fc.constantFrom("\n", "\r\n", "mixed"),
  fc.boolean(),
  fc.boolean(),
  fc.constantFrom("", "\xff", "\xc3"),
).map(([lines, ending, bom, trailing, junk]) => {
  const text = lines.map((l, i) => l + (ending === "mixed" ? (i % 2 ? "\r\n" : "\n") : ending))
    .join("");
  const body = (trailing ? text : text.replace(/\r?\n$/, "")) + (junk === "" ? "" : "tail");
  const bytes = new TextEncoder().encode(body);
  const prefix = bom ? [0xef, 0xbb, 0xbf] : [];
  const extra = junk === "" ? [] : [junk.charCodeAt(0)];
  return new Uint8Array([...prefix, ...bytes, ...extra]);
});

async function compare(dir: string, config: Uint8Array, credentials: Uint8Array): Promise<void> {
  // vaultsh decodes the bytes itself (TextDecoder drops a BOM, as it would be a no-op anyway)
  const ours = {
    config: parseIni(new TextDecoder().decode(config)),
    credentials: parseIni(new TextDecoder().decode(credentials)),
  };
  fc.pre(!corruptsTheLoader(ours.config) && !corruptsTheLoader(ours.credentials));
  await Deno.writeFile(`${dir}/config`, config);
  await Deno.writeFile(`${dir}/credentials`, credentials);
  const sdk = await loadSharedConfigFiles({
    filepath: `${dir}/credentials`,
    configFilepath: `${dir}/config`,
    ignoreCache: true,
  });
  assert.deepEqual(sdkConfig(ours.config), sdk.configFile);
  assert.deepEqual(sdkCredentials(ours.credentials), sdk.credentialsFile);
}

Deno.test("parseIni() reads generated config and credentials files exactly as the AWS SDK loader", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vaultsh-ini-" });
  try {
    await fc.assert(
      fc.asyncProperty(file, file, (config, credentials) => compare(dir, config, credentials)),
      { numRuns: 3000 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseIni() reads arbitrary text exactly as the AWS SDK loader", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vaultsh-ini-" });
  try {
    const text = fc.string({ maxLength: 300, unit: fc.constantFrom(..."[]=#; \t\r\nabp.\"'") });
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const bytes = new TextEncoder().encode(t);
        await compare(dir, bytes, bytes);
      }),
      { numRuns: 2000 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseIni() files sub-sections, typed sections and duplicates as the SDK does", () => {
  const file = parseIni(
    [
      "\ufeff[default]",
      "region = eu-west-1 # inline",
      "s3 =",
      "  max_concurrent_requests = 10",
      "\tmax_queue_size=1000",
      "output = json",
      "[profile dev]",
      "mfa_process = echo 123#456",
      "[sso-session corp]",
      "sso_start_url = https://corp.awsapps.com/start#/",
      "[services local]",
      "sts =",
      "  endpoint_url = http://127.0.0.1:4566",
      "[unknown thing]",
      "hidden = yes",
      "[profile dev]",
      "mfa_process = later",
      "region = ''",
    ].join("\r\n"),
  );
  assert.deepEqual(Object.fromEntries(file.sections.get("default")!), {
    region: "eu-west-1",
    "s3.max_concurrent_requests": "10",
    "s3.max_queue_size": "1000",
    output: "json",
  });
  assert.deepEqual(Object.fromEntries(file.sections.get("profile.dev")!), {
    mfa_process: "later",
    region: "''",
  });
  assert.equal(
    file.sections.get("sso-session.corp")?.get("sso_start_url"),
    "https://corp.awsapps.com/start#/",
  );
  assert.equal(
    file.sections.get("services.local")?.get("sts.endpoint_url"),
    "http://127.0.0.1:4566",
  );
  assert.deepEqual(file.headers.map((h) => [h.line, h.key]), [
    [1, "default"],
    [7, "profile.dev"],
    [9, "sso-session.corp"],
    [11, "services.local"],
    [14, undefined],
    [16, "profile.dev"],
  ]);
});

Deno.test("no module under src/ imports the SDK loader: it is this test's oracle only", async () => {
  const offenders: string[] = [];
  async function walk(dir: URL): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if ((await Deno.readTextFile(url)).includes("shared-ini-file-loader")) {
        offenders.push(url.pathname);
      }
    }
  }
  await walk(new URL("../src/", import.meta.url));
  assert.deepEqual(offenders, []);
});
