// How much traffic open live pages make: five signed-in tabs (Running,
// System, My apps and an app page twice) watch a running app for 10 s, and
// this prints the HTTP requests they send per second and the push-channel
// messages they receive. Run after scripts/build-site.sh:
//   node end2end/bench/live_requests.mjs
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launchBrowser, openPage, DESKTOP, startServer, waitForHydration } from "../support/harness.mjs";

const WINDOW_MS = 10_000;
const server = await startServer();
const token = new URL(server.loginUrl).searchParams.get("token");
const app = join(server.home, "api", "demo");
mkdirSync(app, { recursive: true });
writeFileSync(join(app, "start.json"), JSON.stringify({
  daemon: true,
  run: [{ method: "shell.run", params: { message: "sleep 600" } }],
}));
const started = await fetch(`${server.url}/api/op/apps/demo/start`, {
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify({ script: "start.json" }),
});
if (!started.ok) throw new Error(`start: ${started.status} ${await started.text()}`);

const browser = await launchBrowser();
const paths = ["/running", "/system", "/my", "/app/demo", "/app/demo"];
const counts = { requests: 0, pushed: 0, pushedBytes: 0 };
let counting = false;
for (const path of paths) {
  const page = await openPage(browser, DESKTOP, server.loginUrl);
  page.on("request", () => { if (counting) counts.requests++; });
  page.on("websocket", (ws) => {
    if (ws.url().includes("/ws/live")) ws.on("framereceived", (f) => {
      if (counting) { counts.pushed++; counts.pushedBytes += String(f.payload).length; }
    });
  });
  await page.goto(server.url + path);
  await waitForHydration(page);
}
counting = true;
await new Promise((ok) => setTimeout(ok, WINDOW_MS));
counting = false;
const line = `${paths.length} live pages over ${WINDOW_MS / 1000} s: ` +
  `${(counts.requests / (WINDOW_MS / 1000)).toFixed(1)} HTTP requests/s, ` +
  `${(counts.pushed / (WINDOW_MS / 1000)).toFixed(1)} push messages/s ` +
  `(${Math.round(counts.pushedBytes / Math.max(counts.pushed, 1))} bytes each on average)`;
console.log(line);
await browser.close();
server.stop();
