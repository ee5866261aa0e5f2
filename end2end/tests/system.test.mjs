// The System page on a phone: platform, load charts that refresh, GPU panel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  artifacts, assertNoHorizontalScroll, openPage, PHONE, useServerAndBrowser, waitForHydration,
} from "../support/harness.mjs";

const ctx = useServerAndBrowser();

test("system page shows the machine and refreshes by itself on a phone", async () => {
  const page = await openPage(ctx.browser, PHONE, ctx.server.loginUrl);
  await page.goto(ctx.server.url + "/system");
  await waitForHydration(page);
  await page.locator('[data-panel="platform"] h2').waitFor();
  assert.ok((await page.locator('[data-panel="platform"] h2').textContent()).length > 0);
  assert.match(await page.locator('[data-panel="gpu"]').textContent(), /GPU/);
  const points = () => page.locator('[data-chart="cpu"] polyline').getAttribute("points");
  const before = await points();
  // The page polls every 2 s; a new sample adds a point without a reload.
  await page.waitForFunction(
    (old) => document.querySelector('[data-chart="cpu"] polyline')?.getAttribute("points") !== old,
    before,
    { timeout: 15_000 },
  );
  await assertNoHorizontalScroll(page, assert);
  await page.screenshot({ path: join(artifacts, "system-phone.png"), fullPage: true });
  await page.close();
});
