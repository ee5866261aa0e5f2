// First contentful paint of dashboard pages on a throttled phone: 360 px,
// CPU 4x slower, "fast 3G" (1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT),
// empty cache, signed in. Throttling goes through the DevTools protocol, as
// Lighthouse's does. Prints the median of RUNS loads per page, and when the
// page became interactive (hydrated). Run after scripts/build-site.sh:
//   node end2end/bench/phone_fcp.mjs            (PINOKIOCLOUD_BIN picks the binary)
import { launchBrowser, PHONE, startServer } from "../support/harness.mjs";

const RUNS = Number(process.env.RUNS ?? 5);
const PAGES = (process.env.PAGES ?? "/,/my").split(",");
const FAST_3G = {
  offline: false,
  latency: 150,
  downloadThroughput: (1.6 * 1024 * 1024) / 8,
  uploadThroughput: (750 * 1024) / 8,
};

const server = await startServer();
const browser = await launchBrowser();
await precompressed(["pinokiocloud.wasm", "pinokiocloud.js"]);

/**
 * Waits until the server has its brotli copies of the bundle (made in the
 * background after the first request; sent with an ETag once ready), so
 * loads measure the steady state rather than a server that just started.
 */
async function precompressed(assets) {
  for (const asset of assets) {
    for (let i = 0; i < 240; i++) {
      const r = await fetch(`${server.url}/pkg/${asset}`, { headers: { "accept-encoding": "br" } });
      await r.arrayBuffer();
      if (r.headers.get("etag") && r.headers.get("content-encoding") === "br") break;
      await new Promise((ok) => setTimeout(ok, 500));
    }
  }
}

/** One cold load of `path` in a fresh signed-in context; milliseconds and bytes. */
async function coldLoad(path) {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(server.loginUrl);
  await page.waitForURL((u) => !u.searchParams.has("token"));
  await page.goto("about:blank");
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.clearBrowserCache");
  await cdp.send("Network.emulateNetworkConditions", FAST_3G);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  let bytes = 0;
  const urls = new Map();
  cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
  cdp.on("Network.loadingFinished", (e) => {
    bytes += e.encodedDataLength;
    if (process.env.VERBOSE) console.log(`    ${urls.get(e.requestId)} ${e.encodedDataLength}`);
  });
  const started = Date.now();
  await page.goto(server.url + path, { waitUntil: "commit" });
  await page.waitForFunction(() => window.__pinokiocloudHydrated === true, null, { timeout: 120_000 });
  const hydrated = Date.now() - started;
  const fcp = await page.evaluate(() => {
    const entry = performance.getEntriesByName("first-contentful-paint")[0];
    return entry ? entry.startTime : NaN;
  });
  if (process.env.VERBOSE) {
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0];
      return ["connectStart", "requestStart", "responseStart", "responseEnd", "domInteractive", "domContentLoadedEventEnd"]
        .map((k) => `${k} ${n[k].toFixed(0)}`).join(", ");
    });
    console.log(`    fcp ${fcp.toFixed(0)}: ${nav}`);
  }
  await context.close();
  return { fcp, hydrated, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`throttled phone (360 px, CPU 4x, 1.6 Mbit/s, 150 ms RTT, cold cache), median of ${RUNS}:`);
for (const path of PAGES) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await coldLoad(path));
  const fcps = runs.map((r) => r.fcp);
  if (process.env.VERBOSE) console.log(`    ${fcps.map((f) => f.toFixed(0)).join(" ")}`);
  console.log(
    `  ${path.padEnd(10)} first contentful paint ${median(fcps).toFixed(0)} ms ` +
      `(min ${Math.min(...fcps).toFixed(0)}, max ${Math.max(...fcps).toFixed(0)}), ` +
      `interactive ${median(runs.map((r) => r.hydrated))} ms, ` +
      `${Math.round(median(runs.map((r) => r.bytes)) / 1024)} KiB transferred`,
  );
}
await browser.close();
server.stop();
