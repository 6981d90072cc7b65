/**
 * openBrowser (src/util/open_browser.ts) with real programs as the browser, and a whole device
 * sign-in where the "browser" is a script that approves at the local verification page.
 */
import assert from "node:assert/strict";
import { openBrowser, openers, openSecretUrl } from "../src/util/open_browser.ts";
import { ssoFixture } from "./support/sso_fixture.ts";

async function script(dir: string, name: string, body: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

/** Waits until a file has content (the opener runs detached). */
async function contentOf(path: string): Promise<string> {
  for (let i = 0; i < 500; i++) {
    try {
      const text = await Deno.readTextFile(path);
      if (text.endsWith("\n")) return text;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${path} was never written`);
}

Deno.test("openers() follows BROWSER: colon-separated commands, %s for the URL, else appended", () => {
  const url = "http://127.0.0.1:1/device?user_code=ABCD-EFGH";
  const fallback = Deno.build.os === "darwin" ? "open" : "xdg-open";
  const display = { DISPLAY: ":0" };
  assert.deepEqual(openers(url, display), [[fallback, url]]);
  assert.deepEqual(openers(url, { ...display, BROWSER: "firefox --new-tab:w3m %s:echo 100%%" }), [
    ["firefox", "--new-tab", url],
    ["w3m", url],
    ["echo", "100%", url],
    [fallback, url],
  ]);
});

Deno.test({
  name: "openers() leaves xdg-open out where there is no display to open a browser on",
  ignore: Deno.build.os === "darwin",
  fn() {
    const url = "http://127.0.0.1:1/device";
    assert.deepEqual(openers(url, {}), []);
    assert.deepEqual(openers(url, { DISPLAY: "" }), []);
    assert.deepEqual(openers(url, { WAYLAND_DISPLAY: "wayland-0" }), [["xdg-open", url]]);
    assert.deepEqual(openers(url, { BROWSER: "w3m" }), [["w3m", url]]);
  },
});

Deno.test("openSecretUrl() hands BROWSER a private redirect page, never the URL, and removes it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const seen = `${dir}/seen`;
    // what a browser does: read the page it is given (and record argv and the page's mode)
    const browser = await script(
      dir,
      "browser",
      `page=$(printf '%s' "\${1#file://}" | sed 's/%20/ /g')
` +
        `cat "$page" > '${seen}.html'
printf '%s\n%s\n' "$#" "$1" > '${seen}'
` +
        `stat -c %a "$page" >> '${seen}'`,
    );
    const url = "https://signin.example/federation?Action=login&SigninToken=SECRET";
    const opened = await openSecretUrl(url, {
      pageDir: `${dir}/pages`,
      env: { BROWSER: browser, PATH: "/usr/bin:/bin" },
      what: "the AWS console",
    });
    assert.equal(opened, true);
    const [count, arg, mode] = (await contentOf(seen)).trim().split("\n");
    assert.equal(count, "1");
    assert.match(arg!, /^file:\/\/\/.*\.html$/);
    assert.ok(!arg!.includes("SECRET"), arg);
    assert.equal(mode, "600");
    await assert.rejects(Deno.stat(arg!.slice("file://".length)), Deno.errors.NotFound);
    const html = await Deno.readTextFile(`${seen}.html`);
    assert.match(
      html,
      /content="0;url=https:\/\/signin\.example\/federation\?Action=login&amp;SigninToken=SECRET"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSecretUrl() writes no page and opens nothing where no browser can be opened", {
  ignore: Deno.build.os === "darwin",
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const opened = await openSecretUrl("https://signin.example/?SigninToken=SECRET", {
      pageDir: `${dir}/pages`,
      env: {},
      what: "the AWS console",
    });
    assert.equal(opened, false);
    await assert.rejects(Deno.stat(`${dir}/pages`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openBrowser() passes the URL as one argv element and tries the next opener when one fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const failing = await script(dir, "failing", "exit 3");
    const recording = await script(dir, "recording", `printf '%s|%s\\n' "$#" "$1" > ${dir}/argv`);
    const url = "http://127.0.0.1:1/device?user_code=ABCD-EFGH&x='$(touch pwned)'";
    const opened = await openBrowser(url, { BROWSER: `${failing}:${recording}` });
    assert.equal(opened, true);
    assert.equal(await contentOf(`${dir}/argv`), `1|${url}\n`);
    assert.equal(await openBrowser(url, { BROWSER: failing, PATH: "/nonexistent" }), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a device sign-in whose browser is a script that allows access at the verification page", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using sso = await ssoFixture({ clock: Date.now });
    // the fixture's clock drives polling sleeps; the server keeps real time here
    const browser = await script(
      dir,
      "browser",
      `curl -sf -o /dev/null -d decision=approve "$1" && echo approved > ${dir}/done`,
    );
    const source = sso.tokenSource({
      openBrowser: (url) => openBrowser(url, { BROWSER: browser, PATH: "/usr/bin:/bin" }),
      // poll only once the script has answered: no timing assumptions
      sleep: () => contentOf(`${dir}/done`).then(() => {}),
    });
    const token = await source.accessToken({ interactive: true });
    assert.equal(token.source, "sign-in");
    assert.equal(sso.server.calls.filter((c) => c.action === "DeviceDecision").length, 1);
    assert.equal(sso.told[2], "opened your browser; waiting for you to allow access…");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
