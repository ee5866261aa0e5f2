// The catalog in a real browser, at desktop and phone sizes: search, chips,
// detail page, Back, 404 — against the real server and the hydrated WASM.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  artifacts, assertNoHorizontalScroll, DESKTOP, openPage, PHONE, useServerAndBrowser, waitForHydration,
} from "../support/harness.mjs";

const ctx = useServerAndBrowser();

const count = async (page) => Number((await page.locator(".result-count").textContent()).match(/\d+/)[0]);

for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
  describe(`catalog on ${label} (${viewport.width}x${viewport.height})`, () => {
    test("lists all 284 apps with no horizontal scroll and large touch targets", async () => {
      const page = await openPage(ctx.browser, viewport, ctx.server.loginUrl);
      await page.goto(ctx.server.url + "/");
      await waitForHydration(page);
      assert.equal(await count(page), 284);
      // The server sends the first screens of cards; the browser adds the rest.
      await page.waitForFunction(() => document.querySelectorAll(".card").length === 284);
      assert.equal(await page.locator(".more-apps").count(), 0);
      await assertNoHorizontalScroll(page, assert);
      for (const selector of [".search", ".chip", ".card-link", ".brand", ".top-nav a:visible"]) {
        const heights = await page.locator(selector).evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
        assert.ok(heights.length > 0, `${selector} present`);
        assert.ok(Math.min(...heights) >= 40, `${selector} is ${Math.min(...heights)}px tall`);
      }
      await page.screenshot({ path: join(artifacts, `catalog-${label}.png`) });
      await page.close();
    });

    test("search, chip, detail page and Back keep the search", async () => {
      const page = await openPage(ctx.browser, viewport, ctx.server.loginUrl);
      await page.goto(ctx.server.url + "/");
      await waitForHydration(page);
      // A marker that a full page load would wipe: search must run client-side.
      await page.evaluate(() => { window.__noReload = true; });

      await page.locator(".search").fill("comfy");
      await page.waitForFunction(() => /[?&]q=comfy/.test(location.search));
      const comfyCount = await count(page);
      assert.ok(comfyCount >= 5 && comfyCount < 284, `comfy gave ${comfyCount}`);
      const names = await page.locator(".card-title").allTextContents();
      assert.ok(names.includes("ComfyUI") || names.includes("comfyui"), `ComfyUI in ${names}`);
      assert.ok(names.every((n) => n.length > 0));
      assert.equal(await page.evaluate(() => window.__noReload), true, "search reloaded the page");
      await page.screenshot({ path: join(artifacts, `search-comfy-${label}.png`) });

      await page.locator('.chip[data-category="IMAGE"]').click();
      await page.waitForFunction(() => /cat=IMAGE/.test(location.search));
      const imageCount = await count(page);
      assert.ok(imageCount > 0 && imageCount <= comfyCount, `IMAGE filter gave ${imageCount}`);
      const badges = await page.locator(".card .badge").allTextContents();
      assert.ok(badges.every((b) => b.trim().toLowerCase() === "image"), `badges ${badges}`);
      assert.equal(await page.locator('.chip[data-category="IMAGE"]').getAttribute("aria-pressed"), "true");

      const first = page.locator(".card").first();
      const id = await first.getAttribute("data-app-id");
      const name = await first.locator(".card-title").textContent();
      await first.locator(".card-link").click();
      await page.waitForURL(`**/apps/${id}`);
      await page.locator(".detail h1").waitFor();
      assert.equal(await page.locator(".detail h1").textContent(), name);
      assert.ok(await page.locator(".detail .tag").count() > 0, "tags shown");
      assert.match(await page.locator('a:has-text("View repository")').getAttribute("href"), /^https:\/\//);
      await page.locator('button:has-text("Install"):not([disabled])').waitFor();
      await assertNoHorizontalScroll(page, assert);
      await page.screenshot({ path: join(artifacts, `detail-${label}.png`) });

      await page.goBack();
      await page.waitForFunction(() => location.pathname === "/" && /cat=IMAGE/.test(location.search));
      assert.equal(await page.locator(".search").inputValue(), "comfy");
      assert.equal(await count(page), imageCount);
      assert.equal(await page.evaluate(() => window.__noReload), true, "navigation reloaded the page");
      await page.close();
    });

    test("a search with no match shows the empty state", async () => {
      const page = await openPage(ctx.browser, viewport, ctx.server.loginUrl);
      await page.goto(ctx.server.url + "/?q=zzqqxxnothing");
      await waitForHydration(page);
      assert.equal(await count(page), 0);
      assert.match(await page.locator(".empty").textContent(), /No apps match/);
      await page.locator(".search").fill("");
      await page.waitForFunction(() => document.querySelectorAll(".card").length === 284);
      await page.close();
    });

    test("an unknown app id is a 404 page", async () => {
      const page = await openPage(ctx.browser, viewport, ctx.server.loginUrl);
      const response = await page.goto(ctx.server.url + "/apps/no-such-app");
      assert.equal(response.status(), 404);
      assert.match(await page.locator("h1").textContent(), /Not found/);
      await assertNoHorizontalScroll(page, assert);
      await page.close();
    });
  });
}

// The disk guard before an install (issue #10, item 3): with too little free
// space (pretended through the home ENVIRONMENT) Install first shows the
// warning and both choices; nothing is installed until one is picked.
test("Install warns first when the disk is too small, with Install anyway and Free space first", async () => {
  const envFile = join(ctx.server.home, "ENVIRONMENT");
  const original = readFileSync(envFile, "utf8");
  writeFileSync(envFile, `${original}\nPINOKIOCLOUD_DISK_FREE=1G\n`);
  try {
    const page = await openPage(ctx.browser, PHONE, ctx.server.loginUrl);
    await page.goto(ctx.server.url + "/apps/a1111");
    await waitForHydration(page);
    await page.locator('button:has-text("Install"):not([disabled])').click();
    const warning = page.locator(".disk-warning");
    await warning.waitFor();
    assert.match(await warning.textContent(), /Only 1\.0 GB free on \S+: installs typically need ~12 GB/);
    assert.equal(await warning.locator('a:has-text("Free space first")').getAttribute("href"), "/storage");
    await warning.locator('button:has-text("Install anyway")').waitFor();
    assert.equal(await page.getByRole("button", { name: "Install", exact: true }).isDisabled(), true, "Install waits for a choice");
    await assertNoHorizontalScroll(page, assert);
    await page.screenshot({ path: join(artifacts, "install-disk-warning-phone.png") });
    await page.close();
  } finally {
    writeFileSync(envFile, original);
  }
});

// The same guard on My apps' "install from a git URL" form: the warning and
// its choices show before anything is cloned.
test("the install form on My apps warns first too", async () => {
  const envFile = join(ctx.server.home, "ENVIRONMENT");
  const original = readFileSync(envFile, "utf8");
  writeFileSync(envFile, `${original}\nPINOKIOCLOUD_DISK_FREE=1G\n`);
  try {
    const page = await openPage(ctx.browser, DESKTOP, ctx.server.loginUrl);
    await page.goto(ctx.server.url + "/my");
    await waitForHydration(page);
    const form = page.locator(".install-form");
    await form.locator('input[name="source"]').fill("file:///nonexistent/app.git");
    await form.locator('button[type="submit"]').click();
    const warning = page.locator(".disk-warning");
    await warning.waitFor();
    assert.match(await warning.textContent(), /Only 1\.0 GB free/);
    assert.equal(await page.locator(".install-progress").count(), 0, "nothing is installing");
    await warning.locator('a:has-text("Free space first")').waitFor();
    await page.close();
  } finally {
    writeFileSync(envFile, original);
  }
});

test("every page hydrates from its kept, compressed copy with no console errors, styled by the inlined CSS", async () => {
  const page = await openPage(ctx.browser, PHONE, ctx.server.loginUrl);
  const problems = [];
  page.on("console", (m) => { if (["error", "warning"].includes(m.type())) problems.push(`${page.url()}: ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`${page.url()}: ${e.message}`));
  const stylesheetRequests = [];
  page.on("request", (r) => { if (r.url().endsWith(".css")) stylesheetRequests.push(r.url()); });
  for (const path of ["/", "/my", "/running", "/system", "/settings", "/?q=comfy"]) {
    // Twice: the second load is served from the kept copy.
    for (let i = 0; i < 2; i++) {
      const response = await page.goto(ctx.server.url + path);
      assert.equal(response.headers()["content-encoding"], "br", `${path} sent compressed`);
      await waitForHydration(page);
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, "rgb(15, 17, 21)", `${path} styled before any stylesheet request`);
    }
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(stylesheetRequests, [], "the dashboard's CSS arrives inside the page");
  await page.close();
});

test("a page downloads only the code it uses: routes' chunks load when they are visited", async () => {
  const page = await openPage(ctx.browser, DESKTOP, ctx.server.loginUrl);
  const problems = [];
  page.on("console", (m) => { if (["error", "warning"].includes(m.type())) problems.push(`${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(e.message));
  const fetched = [];
  page.on("request", (r) => { if (r.url().includes("/pkg/")) fetched.push(new URL(r.url()).pathname); });
  const routeChunks = () => fetched.filter((p) => p.startsWith("/pkg/split___"));

  await page.goto(ctx.server.url + "/");
  await waitForHydration(page);
  assert.ok(fetched.includes("/pkg/pinokiocloud.wasm"), `main bundle fetched: ${fetched}`);
  assert.deepEqual(routeChunks(), [], "the catalog needs no route's chunk");

  // In-app navigation (no page load) fetches System's chunk and renders it.
  await page.evaluate(() => { window.__samePage = true; });
  await page.locator('.top-bar a[href="/system"]').click();
  await page.locator("section.system h1", { hasText: "System" }).waitFor();
  assert.equal(await page.evaluate(() => window.__samePage), true, "navigated without reloading");
  assert.ok(routeChunks().some((p) => p.includes("system_route")), `System's chunk: ${routeChunks()}`);
  assert.ok(!routeChunks().some((p) => p.includes("storage_route")), "Storage's chunk is not fetched for System");

  // A lazy route opened directly hydrates once its chunk has arrived, and works.
  fetched.length = 0;
  await page.goto(ctx.server.url + "/storage");
  await waitForHydration(page);
  assert.ok(routeChunks().some((p) => p.includes("storage_route")), `Storage's chunk: ${routeChunks()}`);
  await page.locator(".top-bar a.nav-apps").click();
  await page.waitForFunction(() => location.pathname === "/");
  await page.locator(".grid .card").first().waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});
