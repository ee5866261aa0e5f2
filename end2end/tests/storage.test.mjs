// The Storage page on desktop and on a phone: an app's sizes by kind, the
// shared drive folder it links, and clearing the download caches after a
// confirmation, which frees the space and keeps the Hugging Face token.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  artifacts, assertNoHorizontalScroll, DESKTOP, launchBrowser, openPage, PHONE, startServer, waitForHydration,
} from "../support/harness.mjs";

// Sizes show in decimal units (as disks are sold).
const MB = 1_000_000;

function put(path, bytes) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.alloc(bytes, 7));
}

/** A home with one app of every kind of content, a drive folder and download caches. */
function makeHome() {
  const home = mkdtempSync(join(tmpdir(), "pinokiocloud-e2e-storage-"));
  const app = join(home, "api", "demo");
  put(join(app, "app.py"), 1500);
  put(join(app, "env", "pyvenv.cfg"), 0);
  put(join(app, "env", "lib", "torch.so"), 2 * MB);
  put(join(app, "models", "unet.safetensors"), 3 * MB);
  put(join(app, "cache", "HF_HOME", "blob"), MB);
  const checkpoints = join(home, "drive", "drives", "peers", "d1", "checkpoints");
  put(join(checkpoints, "sdxl.safetensors"), 4 * MB);
  symlinkSync(checkpoints, join(app, "models", "checkpoints"));
  put(join(home, "cache", "uv", "wheels", "big.whl"), 5 * MB);
  put(join(home, "cache", "HF_AUTH", "token"), 10);
  return home;
}

let browser;
const servers = [];
after(async () => {
  await browser?.close();
  for (const s of servers) s.stop();
});

for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
  test(`storage page shows sizes and clears download caches on ${label}`, { timeout: 120_000 }, async () => {
    const home = makeHome();
    const server = await startServer({ home });
    servers.push(server);
    browser ??= await launchBrowser();
    const page = await openPage(browser, viewport, server.loginUrl);
    await page.goto(server.url + "/storage");
    await waitForHydration(page);

    const app = page.locator('.storage-app[data-app="demo"]');
    await app.waitFor({ timeout: 30_000 });
    const kind = (k) => app.locator(`[data-kind="${k}"] dd`).textContent();
    assert.equal(await kind("code"), "1.5 KB");
    assert.equal(await kind("venv"), "2.0 MB");
    assert.equal(await kind("model"), "3.0 MB", "the drive's checkpoint is not the app's");
    assert.equal(await kind("cache"), "1.0 MB");
    const drive = page.locator('[data-folder="drives/peers/d1/checkpoints"]');
    assert.match(await drive.textContent(), /4\.0 MB[\s\S]*linked by demo/);
    const bar = await page.locator('.usage-row[data-row="demo"] .usage-bar').boundingBox();
    assert.ok(bar && bar.width > 0, "the app's bar is drawn");
    assert.match(await page.locator('[data-panel="filesystems"]').textContent(), /free of/);

    const total = page.locator('[data-panel="download-cache"] .cache-total');
    assert.equal(await total.textContent(), "5.0 MB");
    const cached = join(home, "cache", "uv", "wheels", "big.whl");
    await page.locator('[data-panel="download-cache"] [data-action="Clear download caches"] > .btn.danger').click();
    const ask = page.locator('[data-panel="download-cache"] .confirm-ask');
    await ask.waitFor();
    assert.match(await ask.textContent(), /token is kept/);
    assert.ok(existsSync(cached), "nothing is deleted before the confirmation");
    await assertNoHorizontalScroll(page, assert);
    await page.screenshot({ path: join(artifacts, `storage-confirm-${label}.png`), fullPage: true });
    await ask.locator(".confirm-yes").click();

    await page.locator('.notice[data-result="ok"]', { hasText: "freed" }).waitFor({ timeout: 20_000 });
    await page.waitForFunction(
      () => document.querySelector('[data-panel="download-cache"] .cache-total')?.textContent === "10 B",
      null,
      { timeout: 30_000 },
    );
    assert.ok(!existsSync(cached), "the cached wheel is gone");
    assert.ok(existsSync(join(home, "cache", "HF_AUTH", "token")), "the token stays");
    assert.equal(await kind("venv"), "2.0 MB", "apps are untouched");
    await assertNoHorizontalScroll(page, assert);
    await page.screenshot({ path: join(artifacts, `storage-${label}.png`), fullPage: true });

    if (label === "desktop") await moveModelsToAVolumeAndBack(page, home);

    // Settings holds the switch for the automatic dedup pass.
    await page.goto(server.url + "/settings");
    await waitForHydration(page);
    const toggle = page.locator(".toggle-row", { hasText: "Deduplicate after installs and downloads" });
    await toggle.locator('input[name="dedup_auto"]').waitFor();
    await assertNoHorizontalScroll(page, assert);
    await page.close();
  });
}

/** Shared models go to a "volume" folder and back; the app's link keeps working. */
async function moveModelsToAVolumeAndBack(page, home) {
  const volume = join(mkdtempSync(join(tmpdir(), "pinokiocloud-e2e-volume-")), "pinokiocloud-models");
  const viaApp = join(home, "api", "demo", "models", "checkpoints", "sdxl.safetensors");
  const panel = page.locator('[data-panel="models"]');
  await panel.locator('input[name="models-target"]').fill(volume);
  await panel.locator("button", { hasText: "Move the shared models there" }).click();
  const ask = panel.locator(".confirm-ask");
  await ask.waitFor();
  assert.match(await ask.textContent(), /Stop running apps first/);
  assert.ok(!existsSync(volume), "nothing moves before the confirmation");
  await ask.locator(".confirm-yes").click();
  await panel.locator(".notice.info", { hasText: "now in" }).waitFor({ timeout: 30_000 });
  assert.ok(existsSync(join(volume, "d1", "checkpoints", "sdxl.safetensors")), "the model is on the volume");
  assert.ok(existsSync(viaApp), "the app still finds it");
  await page.reload();
  await waitForHydration(page);
  await panel.locator("button", { hasText: "Move them back to this disk" }).click();
  await panel.locator(".confirm-ask .confirm-yes").click();
  // Done means the move's own report (given once the volume's copy is
  // deleted), not the new place alone: that shows as soon as the swap is made.
  await panel.locator('.notice.info', { hasText: "drives/peers" }).waitFor({ timeout: 30_000 });
  assert.match(await panel.textContent(), /Kept on this machine/);
  assert.ok(!existsSync(volume), "the volume's copy is gone");
  assert.ok(existsSync(join(home, "drive", "drives", "peers", "d1", "checkpoints", "sdxl.safetensors")));
  assert.ok(existsSync(viaApp), "the app still finds it");
}
