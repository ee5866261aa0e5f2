// The whole flow a person does, in a real browser: install an app from a git
// URL, run its install script (venv + local package), start its daemon, type
// into its prompt in the terminal, open its web UI through the dashboard,
// stop it, and check that none of its processes remain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  artifacts, assertNoHorizontalScroll, DESKTOP, openPage, PHONE, useServerAndBrowser, waitForHydration,
} from "../support/harness.mjs";
import { makeFixtureApp, processesOf } from "../support/fixture_app.mjs";

const ctx = useServerAndBrowser();

const menuItem = (page, text) => page.locator(".launcher .menu-item", { hasText: text });

/**
 * Whether an <img> loads a real image. The icon is `loading="lazy"` and may
 * still be in flight when the page has hydrated, so this scrolls it into view
 * and waits for its load or error (up to 15 s) rather than reading it once.
 */
const loaded = async (img) => {
  await img.scrollIntoViewIfNeeded();
  return img.evaluate((el) => new Promise((resolve) => {
    const settle = () => resolve(el.naturalWidth > 0);
    if (el.complete) return settle();
    el.addEventListener("load", settle, { once: true });
    el.addEventListener("error", settle, { once: true });
    setTimeout(settle, 15_000);
  }));
};

/** Opens a <details> section (idempotent, unlike clicking its summary). */
const expand = (page, selector) => page.locator(selector).evaluate((d) => { d.open = true; });

for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
  test(`install, run, type, open and stop an app on ${label}`, { timeout: 240_000 }, async () => {
    const folder = `hello-${label}`;
    const source = makeFixtureApp(folder);
    const page = await openPage(ctx.browser, viewport, ctx.server.loginUrl);
    await page.goto(ctx.server.url + "/my");
    await waitForHydration(page);
    await page.locator('input[name="source"]').fill(source);
    await page.locator('.install-form button[type="submit"]').click();
    await page.waitForURL(`**/app/${folder}`, { timeout: 60_000 });
    await waitForHydration(page);
    assert.match(await page.locator(".installed-app h1").textContent(), /Hello Server/);

    // The launcher's icon, served from the app's folder.
    assert.ok(await loaded(page.locator(".installed-app .detail-head img.app-icon")), "the app icon did not load");

    await menuItem(page, "Install").click();
    await page.locator(`.run [data-run-id]`).first().waitFor();
    // The install script's `notify` shows as a toast in a live region.
    await page.locator('.toasts[role="status"] .toast', { hasText: "Installed. Click Start." }).waitFor({ timeout: 120_000 });
    await menuItem(page, "Start").waitFor({ timeout: 120_000 });
    await page.screenshot({ path: join(artifacts, `app-installed-${label}.png`) });

    // A question with a file field: too big is refused, then a file lands in the app's folder.
    await menuItem(page, "Upload").click();
    const fileInput = page.locator('.script-form input[type="file"]');
    await fileInput.waitFor({ timeout: 30_000 });
    await fileInput.setInputFiles({ name: "big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(200_000) });
    await page.locator(".upload-state.error", { hasText: "limit" }).waitFor();
    await fileInput.setInputFiles({ name: "note.txt", mimeType: "text/plain", buffer: Buffer.from("hello upload") });
    await page.locator(".upload-state.ok").waitFor();
    await assertNoHorizontalScroll(page, assert);
    await page.screenshot({ path: join(artifacts, `app-upload-${label}.png`) });
    await page.locator('.script-form button[type="submit"]').click();
    await page.locator(".toasts .toast", { hasText: "Got the file" }).waitFor({ timeout: 30_000 });
    assert.equal(readFileSync(join(ctx.server.home, "api", folder, "inputs", "note.txt"), "utf8"), "hello upload");
    await page.waitForFunction(() => !document.querySelector(".script-form"));

    // The install run's full log, from the history.
    await expand(page, ".history");
    await page.locator(".history li", { hasText: "install.js" }).locator("a.log-link").click();
    await page.waitForURL(/\/runs\/\d+$/);
    await page.locator(".log-text", { hasText: "hellopkg" }).waitFor({ timeout: 20_000 });
    assert.ok(!(await page.locator(".log-text").textContent()).includes("\x1b"), "escapes in the log view");
    const download = await page.locator("a[download]").getAttribute("href");
    const saved = await page.request.get(ctx.server.url + download);
    assert.equal(saved.status(), 200);
    assert.match(saved.headers()["content-disposition"], /attachment; filename="hello-.*-run-\d+\.log"/);
    await assertNoHorizontalScroll(page, assert);
    await page.screenshot({ path: join(artifacts, `run-log-${label}.png`) });
    await page.goto(ctx.server.url + `/app/${folder}`);
    await waitForHydration(page);

    await menuItem(page, "Start").click();
    const terminal = page.locator(".run .terminal").first();
    await terminal.locator(".xterm-rows").waitFor();
    await page.waitForFunction(() => document.querySelector(".run .xterm-rows")?.textContent.includes("Your name?"), null, { timeout: 30_000 });
    await terminal.click();
    await page.keyboard.type("Ada");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector(".run .xterm-rows")?.textContent.includes("hello Ada"), null, { timeout: 30_000 });

    const open = menuItem(page, "Open Web UI");
    await open.waitFor({ timeout: 30_000 });
    const href = await open.getAttribute("href");
    // A local URL in the menu opens the app on its own origin, signed in.
    assert.match(href, new RegExp(`^/open/${folder}($|\\?path=)`));
    await assertNoHorizontalScroll(page, assert);
    await page.screenshot({ path: join(artifacts, `app-running-${label}.png`) });
    const ui = await openPage(ctx.browser, viewport);
    await ui.context().addCookies(await page.context().cookies());
    const response = await ui.goto(ctx.server.url + href);
    assert.equal(response.status(), 200);
    assert.notEqual(new URL(ui.url()).origin, new URL(ctx.server.url).origin, "the app is on its own origin");
    assert.match(await ui.locator("h1").textContent(), /Hello Ada from hellopkg/);
    // The app's WebSocket works on its origin, with that origin's session cookie.
    const echoed = await ui.evaluate(() => new Promise((resolve, reject) => {
      const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
      ws.onopen = () => ws.send("ping");
      ws.onmessage = (e) => resolve(e.data);
      ws.onerror = () => reject(new Error("WebSocket error"));
    }));
    assert.equal(echoed, "echo:ping");
    await ui.close();

    assert.ok(processesOf(`hellopkg Ada`).length > 0, "the app's server is running");
    // Renaming a running app is refused with what to do.
    await expand(page, ".rename");
    await page.locator('.rename input[name="to"]').fill(`${folder}-x`);
    await page.locator('.rename button[type="submit"]').click();
    await page.locator(".rename-error", { hasText: "stop it first" }).waitFor();
    // The Running view lists it, across apps, with its Open link.
    const running = await page.context().newPage();
    await running.goto(ctx.server.url + "/running");
    const row = running.locator(".link-row", { hasText: folder });
    await row.waitFor();
    assert.match(await row.textContent(), /start\.js/);
    assert.equal(await row.locator("a.btn").getAttribute("href"), href);
    await running.close();
    await page.locator(".run .stop").first().click();
    await menuItem(page, "Start").waitFor({ timeout: 30_000 });
    for (let i = 0; i < 50 && processesOf("hellopkg Ada").length > 0; i++) await page.waitForTimeout(100);
    assert.deepEqual(processesOf("hellopkg Ada"), [], "processes of the app remain after Stop");

    // Configure: add a plain and a secret variable; the secret never comes back to the page.
    await page.locator(".configure summary").click();
    for (const [key, value] of [["GREETING", "Grace"], ["HF_TOKEN", "hf_sekrit"]]) {
      await page.locator('.env-new input[name="key"]').fill(key);
      await page.locator('.env-new input[name="value"]').fill(value);
      await page.locator('.env-new button[type="submit"]').click();
      await page.locator(`.env-row[data-key="${key}"]`).waitFor();
    }
    assert.equal(await page.locator('.env-row[data-key="GREETING"] input').inputValue(), "Grace");
    assert.equal(await page.locator('.env-row[data-key="HF_TOKEN"] input').inputValue(), "");
    assert.equal(await page.locator('.env-row[data-key="HF_TOKEN"] input').getAttribute("type"), "password");
    assert.ok(!(await page.content()).includes("hf_sekrit"), "a secret was sent back to the page");

    // Rename: a bad name is refused inline, a good one moves the page.
    await expand(page, ".rename");
    await page.locator('.rename input[name="to"]').fill("bad name!");
    await page.locator('.rename button[type="submit"]').click();
    await page.locator(".rename-error", { hasText: "not allowed" }).waitFor();
    await assertNoHorizontalScroll(page, assert);
    await page.screenshot({ path: join(artifacts, `app-rename-${label}.png`) });
    const renamed = `${folder}-renamed`;
    await page.locator('.rename input[name="to"]').fill(renamed);
    await page.locator('.rename button[type="submit"]').click();
    await page.waitForURL(`**/app/${renamed}`);
    await page.locator(".installed-app h1", { hasText: "Hello Server" }).waitFor();

    // /my shows it under its new name, with its icon.
    await page.goto(ctx.server.url + "/my");
    await waitForHydration(page);
    const card = page.locator(`.card[data-installed="${renamed}"]`);
    await card.waitFor();
    assert.ok(await loaded(card.locator("img.app-icon")), "the card icon did not load");
    await assertNoHorizontalScroll(page, assert);
    await page.screenshot({ path: join(artifacts, `my-apps-${label}.png`) });
    await page.close();
  });
}
