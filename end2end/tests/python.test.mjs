// Python environments in the browser: before Install, the app page says how
// the torch its install script picks fits this machine; while a script
// downloads, its progress shows as a bar on the run and on the app's card.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  artifacts, assertNoHorizontalScroll, DESKTOP, openPage, PHONE, useServerAndBrowser, waitForHydration,
} from "../support/harness.mjs";
import { makeModelApp } from "../support/fixture_app.mjs";

const ctx = useServerAndBrowser();

for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
  test(`torch advice and download progress on ${label}`, { timeout: 120_000 }, async () => {
    const folder = `model-${label}`;
    const page = await openPage(ctx.browser, viewport, ctx.server.loginUrl);
    await page.goto(ctx.server.url + "/my");
    await waitForHydration(page);
    await page.locator('input[name="source"]').fill(makeModelApp(folder));
    await page.locator('.install-form button[type="submit"]').click();
    await page.waitForURL(`**/app/${folder}`, { timeout: 60_000 });
    await waitForHydration(page);

    // No GPU here: a CUDA build is a caution, and the CPU index fits.
    const advice = page.locator(".torch-advice");
    assert.equal(await advice.getAttribute("data-verdict"), "caution");
    const text = await advice.textContent();
    assert.match(text, /cu121/);
    assert.match(text, /no GPU/);
    assert.match(text, /Best PyTorch index here: cpu/);

    await page.locator(".launcher .menu-item", { hasText: "Download" }).click();
    const bar = page.locator(".run .download", { hasText: "model.safetensors" });
    await bar.waitFor({ timeout: 30_000 });
    assert.match(await bar.textContent(), /MB of 1\.0 GB|of 1000/);
    const terminal = await page.locator(".run .terminal[data-run-id]").elementHandle();
    await page.waitForTimeout(3500);
    // Two refreshes later the terminal is the same element: it was not rebuilt.
    assert.ok(await terminal.evaluate((el) => el.isConnected), "the terminal was re-created by a refresh");
    await assertNoHorizontalScroll(page, assert);
    await page.screenshot({ path: join(artifacts, `download-progress-${label}.png`) });

    // The app's own choice of Python installs (Configure, admin), kept.
    await page.locator(".configure").evaluate((d) => { d.open = true; });
    const choice = page.locator('select[name="python_acceleration"]');
    const saved = page.waitForResponse((r) => r.url().includes("/api/admin/set_app_acceleration"));
    await choice.selectOption("off");
    assert.equal((await saved).status(), 200);
    await page.reload();
    await waitForHydration(page);
    assert.equal(await page.locator('select[name="python_acceleration"]').inputValue(), "off");

    await page.goto(ctx.server.url + "/my");
    await waitForHydration(page);
    await page.locator(`[data-installed="${folder}"] .download`, { hasText: "model.safetensors" }).waitFor({ timeout: 10_000 });
    await page.close();
  });
}
