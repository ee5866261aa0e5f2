// Shared pieces of the browser tests: a real server on a free port with a
// fresh home, and Debian's Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");
export const artifacts = join(root, "end2end", "artifacts");
mkdirSync(artifacts, { recursive: true });

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };

/**
 * Starts `pinokiocloud serve` on port 0 and resolves once it prints its URL.
 * `home` reuses a home (a restart); a fresh one otherwise. `kill()` ends it
 * with SIGKILL (a crash) and resolves once it is gone.
 */
export async function startServer({ home = mkdtempSync(join(tmpdir(), "pinokiocloud-e2e-")) } = {}) {
  const bin = process.env.PINOKIOCLOUD_BIN ?? join(root, "target", "debug", "pinokiocloud");
  const child = spawn(bin, ["serve", "--home", home, "--port", "0", "--tunnel", "off", "--site", join(root, "target", "site")], {
    stdio: ["ignore", "pipe", "pipe"],
    // The disk guard sees plenty of room whatever the test machine's disk
    // has; tests of the guard lower it in the home's ENVIRONMENT, which wins.
    env: { ...process.env, PINOKIOCLOUD_DISK_FREE: process.env.PINOKIOCLOUD_DISK_FREE ?? "1T" },
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const [url, loginUrl] = await new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`server did not print its URL in 30 s\n${out}\n${stderr}`)), 30_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/running at (http:\/\/\S+)[\s\S]*Sign in \(admin\): (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); ok([m[1].replace(/\/$/, ""), m[2]]); }
    });
    child.on("exit", (code) => { clearTimeout(timer); fail(new Error(`server exited with ${code}\n${out}\n${stderr}`)); });
  });
  const exited = new Promise((ok) => child.once("exit", ok));
  const kill = () => { child.kill("SIGKILL"); return exited; };
  return { url, loginUrl, home, pid: child.pid, stop: () => child.kill("SIGTERM"), kill };
}

/** Headless Chromium with the flags this offline machine needs. */
export async function launchBrowser() {
  // playwright-core gives every launch a fresh, empty user-data dir.
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
    ],
  });
}

/** Resolves once the WASM bundle has hydrated the page. */
export async function waitForHydration(page) {
  await page.waitForFunction(() => window.__pinokiocloudHydrated === true, null, { timeout: 20_000 });
}

/** Fails if the page is wider than the viewport (horizontal scrolling). */
export async function assertNoHorizontalScroll(page, assert) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `page is ${scrollWidth}px wide in a ${innerWidth}px viewport`);
}

/** A fresh browser context (own cookies) at `viewport`, signed in through `link` when given. */
export async function openPage(browser, viewport, link) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  if (link) {
    await page.goto(link);
    await page.waitForURL((u) => !u.searchParams.has("token"));
  }
  // Closing the page ends its context; the browser may already be closing.
  page.on("close", () => context.close().catch(() => {}));
  return page;
}

/**
 * Registers before/after hooks that start a server and a browser for the
 * test file; the returned object holds them once `before` has run.
 */
export function useServerAndBrowser() {
  const ctx = { server: null, browser: null };
  before(async () => {
    ctx.server = await startServer();
    ctx.browser = await launchBrowser();
  });
  after(async () => {
    await ctx.browser?.close();
    ctx.server?.stop();
  });
  return ctx;
}
