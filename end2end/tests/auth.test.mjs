// Share links and roles in a real browser: the admin makes a viewer link on a
// desktop; a phone opens it, sees no admin controls, and is refused when it
// calls an admin function by hand; revoking signs the phone out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  artifacts, assertNoHorizontalScroll, DESKTOP, openPage, PHONE, useServerAndBrowser, waitForHydration,
} from "../support/harness.mjs";

const ctx = useServerAndBrowser();

test("without a session every page sends you to sign in", async () => {
  const page = await openPage(ctx.browser, PHONE);
  await page.goto(ctx.server.url + "/apps/comfyui");
  assert.match(new URL(page.url()).pathname, /^\/login$/);
  assert.match(await page.locator("h1").textContent(), /Sign in/);
  await page.goto(ctx.server.url + "/?token=not-a-real-token");
  assert.match(await page.locator(".notice.error").textContent(), /invalid or has expired/);
  await assertNoHorizontalScroll(page, assert);
  await page.screenshot({ path: join(artifacts, "login-phone.png") });
  await page.close();
});

test("a phone with a viewer link sees no admin controls and cannot call them", async () => {
  const admin = await openPage(ctx.browser, DESKTOP, ctx.server.loginUrl);
  assert.equal(new URL(admin.url()).search, "", "token stripped from the URL");
  await admin.goto(ctx.server.url + "/settings");
  await waitForHydration(admin);
  assert.equal(await admin.locator(".role-badge").textContent(), "admin");
  await admin.locator('select[name="role"]').selectOption("viewer");
  await admin.locator('input[name="label"]').fill("Sam's phone");
  await admin.locator('button:has-text("Create link")').click();
  const link = await admin.locator(".created-url input").inputValue();
  assert.match(link, /\?token=[A-Za-z0-9_-]{43}$/);
  await admin.locator('.link-row[data-status="active"]').first().waitFor();
  await admin.screenshot({ path: join(artifacts, "settings-desktop.png") });

  const phone = await openPage(ctx.browser, PHONE, link);
  await waitForHydration(phone);
  assert.equal(await phone.locator(".role-badge").textContent(), "viewer");
  assert.equal(await phone.locator('a[href="/settings"]').count(), 0, "viewer sees Settings");
  await assertNoHorizontalScroll(phone, assert);
  await phone.screenshot({ path: join(artifacts, "viewer-phone.png") });
  const byHand = await phone.evaluate(async () => {
    const r = await fetch("/api/admin/create_share_link", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "role=admin&label=escalate",
    });
    return { status: r.status, text: await r.text() };
  });
  assert.equal(byHand.status, 403);
  assert.match(byHand.text, /needs the admin role/);
  const settings = await phone.goto(ctx.server.url + "/settings");
  assert.equal(settings.status(), 403);

  admin.once("dialog", (dialog) => dialog.accept());
  await admin.locator('.link-row[data-status="active"] button:has-text("Revoke")').first().click();
  await admin.locator('.link-row[data-status="revoked"]').first().waitFor();
  await phone.goto(ctx.server.url + "/");
  assert.match(new URL(phone.url()).pathname, /^\/login$/, "revoked link still signed in");
  await admin.close();
  await phone.close();
});

test("the admin turns uv acceleration off in Settings and it stays off", async () => {
  const page = await openPage(ctx.browser, PHONE, ctx.server.loginUrl);
  await page.goto(ctx.server.url + "/settings");
  await waitForHydration(page);
  const uv = page.locator('input[name="acceleration"]');
  assert.equal(await uv.isChecked(), true, "on by default");
  assert.equal(await page.locator('input[name="reuse_platform_torch"]').isChecked(), false);
  const saved = page.waitForResponse((r) => r.url().includes("/api/admin/save_python_settings"));
  await uv.uncheck();
  assert.equal((await saved).status(), 200);
  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.locator('input[name="acceleration"]').isChecked(), false, "saved");
  await assertNoHorizontalScroll(page, assert);
  await page.screenshot({ path: join(artifacts, "settings-python-phone.png") });
  await page.locator('input[name="acceleration"]').check();
  await page.close();
});
