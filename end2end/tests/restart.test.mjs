// A dashboard that dies mid-run (SIGKILL) and comes back on the same home:
// the app page shows the run ended with why (the supervisor reconciles
// runs left open at start: live process groups killed, runs marked
// `interrupted`), offers Start again, and none of the app's processes remain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  artifacts, assertNoHorizontalScroll, DESKTOP, launchBrowser, openPage, PHONE, startServer, waitForHydration,
} from "../support/harness.mjs";
import { makeFixtureApp, processesOf } from "../support/fixture_app.mjs";

const menuItem = (page, text) => page.locator(".launcher .menu-item", { hasText: text });

test("a dashboard killed mid-run shows the run interrupted after restart, with no orphans", { timeout: 300_000 }, async () => {
  const folder = "hello-restart";
  const source = makeFixtureApp(folder);
  let server = await startServer();
  const browser = await launchBrowser();
  try {
    let page = await openPage(browser, DESKTOP, server.loginUrl);
    await page.goto(server.url + "/my");
    await waitForHydration(page);
    await page.locator('input[name="source"]').fill(source);
    await page.locator('.install-form button[type="submit"]').click();
    await page.waitForURL(`**/app/${folder}`, { timeout: 60_000 });
    await waitForHydration(page);
    await menuItem(page, "Install").click();
    await menuItem(page, "Start").waitFor({ timeout: 120_000 });
    await menuItem(page, "Start").click();
    await page.waitForFunction(() => document.querySelector(".run .xterm-rows")?.textContent.includes("Your name?"), null, { timeout: 30_000 });
    await page.locator(".run .terminal").first().click();
    await page.keyboard.type("Crashy");
    await page.keyboard.press("Enter");
    await menuItem(page, "Open Web UI").waitFor({ timeout: 30_000 });
    assert.ok(processesOf("hellopkg Crashy").length > 0, "the app's server is running");
    await page.close();

    await server.kill();
    server = await startServer({ home: server.home });
    for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
      page = await openPage(browser, viewport, server.loginUrl);
      await page.goto(server.url + `/app/${folder}`);
      await waitForHydration(page);
      await menuItem(page, "Start").waitFor({ timeout: 30_000 });
      assert.equal(await page.locator(".run").count(), 0, "a run is shown as live after the restart");
      await page.locator(".history").evaluate((d) => { d.open = true; });
      const row = page.locator('.history li[data-outcome="interrupted"]', { hasText: "start.js" });
      await row.waitFor();
      assert.match(await row.textContent(), /dashboard restarted/);
      await assertNoHorizontalScroll(page, assert);
      await page.screenshot({ path: join(artifacts, `app-after-restart-${label}.png`) });
      await page.close();
    }
    for (let i = 0; i < 50 && processesOf("hellopkg Crashy").length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(processesOf("hellopkg Crashy"), [], "processes of the app outlived the restart");
  } finally {
    await browser.close();
    server.stop();
  }
});
