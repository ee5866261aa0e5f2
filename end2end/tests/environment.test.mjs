// Settings → Environment in the browser: the admin sees the home
// ENVIRONMENT, a bad line is refused with its number and the fix (what was
// typed stays in the editor), and a good edit is saved and shown again
// after a reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  artifacts, assertNoHorizontalScroll, openPage, PHONE, useServerAndBrowser, waitForHydration,
} from "../support/harness.mjs";

const ctx = useServerAndBrowser();

test("the admin edits the home ENVIRONMENT in Settings", { timeout: 60_000 }, async () => {
  const page = await openPage(ctx.browser, PHONE, ctx.server.loginUrl);
  await page.goto(ctx.server.url + "/settings");
  await waitForHydration(page);
  const editor = page.locator('textarea[name="home_environment"]');
  const original = await editor.inputValue();
  assert.match(original, /^HF_HOME=\.\/cache\/HF_HOME$/m, "Pinokio's defaults were generated");

  const bad = original + "\nnot a variable\n";
  await editor.fill(bad);
  let saved = page.waitForResponse((r) => r.url().includes("/api/admin/save_home_environment"));
  await page.locator(".env-form button[type=submit]").click();
  await saved;
  const problem = page.locator(".env-problems");
  await problem.waitFor();
  const lines = bad.split("\n").length - 1;
  assert.match(await problem.textContent(), new RegExp(`line ${lines}: no '='.*NAME=value`));
  assert.equal(await editor.inputValue(), bad, "the typed text is kept");
  await page.screenshot({ path: join(artifacts, "settings-environment-error-phone.png") });

  await editor.fill(original + "\nPCLOUD_E2E=from-the-browser\n");
  saved = page.waitForResponse((r) => r.url().includes("/api/admin/save_home_environment"));
  await page.locator(".env-form button[type=submit]").click();
  assert.equal((await saved).status(), 200);
  await page.locator(".env-saved").waitFor();
  await page.reload();
  await waitForHydration(page);
  assert.match(await page.locator('textarea[name="home_environment"]').inputValue(), /^PCLOUD_E2E=from-the-browser$/m);
  await assertNoHorizontalScroll(page, assert);
  await page.screenshot({ path: join(artifacts, "settings-environment-phone.png") });
  await page.close();
});
