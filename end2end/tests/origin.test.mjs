// Every app at an origin of its own: a fixture app that assumes it owns `/`
// (<base href="/">, /static/app.css, fetch('/api/echo'), a WebSocket at /ws,
// a cookie at /) opened through the one-time handoff, in the subdomain mode
// (http://<app>.localhost:<port>/) and the per-port mode, at desktop and
// phone sizes. From the app's origin the dashboard's API is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DESKTOP, PHONE, artifacts, launchBrowser } from "../support/harness.mjs";

const root = resolve(import.meta.dirname, "../..");
const APP = "originapp";
const START = JSON.stringify({
  daemon: true,
  run: [
    { method: "shell.run", params: { message: "python3 app.py", on: [{ event: "/http:\\/\\/[0-9.:]+/", done: true }] } },
    { method: "local.set", params: { url: "{{input.event[0]}}" } },
  ],
});

/** A server with the fixture app installed, started with `extra` flags. */
async function serveWithApp(extra) {
  const home = mkdtempSync(join(tmpdir(), "pinokiocloud-origin-"));
  const dir = join(home, "api", APP);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(root, "server/tests/fixtures/origin_app/app.py"), join(dir, "app.py"));
  writeFileSync(join(dir, "start.json"), START);
  const bin = process.env.PINOKIOCLOUD_BIN ?? join(root, "target", "debug", "pinokiocloud");
  const child = spawn(bin, ["serve", "--home", home, "--port", "0", "--tunnel", "off", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  const [port, token] = await new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`no URL in 30 s: ${out}`)), 30_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/running at http:\/\/127\.0\.0\.1:(\d+)[\s\S]*\?token=(\S+)/);
      if (m) { clearTimeout(timer); ok([Number(m[1]), m[2]]); }
    });
    child.on("exit", (code) => fail(new Error(`server exited with ${code}: ${out}`)));
  });
  // The person reaches the dashboard as http://localhost:<port> (e.g. an SSH forward).
  const dashboard = `http://localhost:${port}`;
  const api = (method, path) => fetch(`http://127.0.0.1:${port}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined,
  });
  const started = await api("POST", `/api/op/apps/${APP}/start`);
  assert.equal(started.status, 200, await started.text());
  for (let i = 0; i < 300; i++) {
    const list = await (await api("GET", "/api/view/origins")).json();
    if (list.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { port, token, dashboard, stop: () => child.kill("SIGTERM") };
}

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

for (const [mode, extra] of [["subdomain", []], ["port", ["--app-origin", "port"]]]) {
  test(`the app works at its own origin (${mode} mode), isolated from the dashboard`, { timeout: 180_000 }, async () => {
    const server = await serveWithApp(extra);
    try {
      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
        const context = await browser.newContext({ viewport });
        const page = await context.newPage();
        // Signed in to the dashboard in the same browser (its cookie is there).
        await page.goto(`${server.dashboard}/?token=${server.token}`);
        const open = await page.evaluate(async (app) => (await fetch(`/open/${app}?format=json`)).json(), APP);
        assert.equal(open.mode, mode, JSON.stringify(open));
        const failed = [];
        // The app's own requests (the dashboard page may still be loading its assets).
        const ofApp = (url) => new URL(url).origin === open.origin;
        page.on("requestfailed", (r) => { if (ofApp(r.url())) failed.push(`${r.url()} ${r.failure()?.errorText}`); });
        page.on("response", (r) => { if (ofApp(r.url()) && r.status() >= 400) failed.push(`${r.url()} ${r.status()}`); });
        await page.goto(open.link);
        assert.equal(new URL(page.url()).origin, open.origin);
        assert.equal(new URL(page.url()).pathname, "/");
        await page.locator("#fetch", { hasText: "ok /api/echo?from=page" }).waitFor({ timeout: 20_000 });
        await page.locator("#ws", { hasText: "echo:ping" }).waitFor({ timeout: 20_000 });
        const color = await page.locator("#title").evaluate((el) => getComputedStyle(el).color);
        assert.equal(color, "rgb(12, 34, 56)", "the app's CSS at /static/app.css applies");
        const cookies = await page.evaluate(() => document.cookie);
        assert.match(cookies, /appcookie=hello/);
        assert.doesNotMatch(cookies, /pc_/, "our session cookies are HttpOnly");
        await page.waitForLoadState("networkidle");
        assert.deepEqual(failed, [], "every request of the app succeeds");
        await page.screenshot({ path: join(artifacts, `origin-${mode}-${label}.png`) });

        // From the app's origin, the dashboard's admin API is refused.
        // Chromium reports each as a failed request (the 403 carries no CORS grant).
        const refused = [];
        page.on("requestfailed", (r) => { if (r.url().startsWith(server.dashboard)) refused.push(r.url()); });
        const results = await page.evaluate(async (dash) => {
          const tries = [
            [`${dash}/api/view/apps`, { credentials: "include" }],
            [`${dash}/api/admin/create_share_link`, { method: "POST", credentials: "include", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "role=admin&label=stolen" }],
            [`${dash}/api/admin/origins/originapp/share`, { method: "POST", credentials: "include", body: "{}" }],
          ];
          const out = [];
          for (const [url, init] of tries) {
            try { const r = await fetch(url, init); out.push(`answered ${r.status}`); } catch (e) { out.push("refused"); }
          }
          return out;
        }, server.dashboard);
        assert.deepEqual(results, ["refused", "refused", "refused"]);
        for (let i = 0; i < 50 && refused.length < 3; i++) await page.waitForTimeout(100);
        assert.equal(refused.length, 3, `failed requests to the dashboard: ${refused}`);
        await context.close();
      }
      // Nothing was created by those requests.
      const links = await fetch(`http://127.0.0.1:${server.port}/api/admin/share_links`, {
        method: "POST", headers: { authorization: `Bearer ${server.token}` },
      });
      assert.deepEqual(await links.json(), []);
    } finally {
      server.stop();
    }
  });
}
