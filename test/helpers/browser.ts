/**
 * Headless Chromium from Debian's package, driven by playwright-core (a browser download never works here).
 */
import { execFileSync } from "node:child_process";
import { type Browser, chromium } from "playwright-core";

const chromiumPath = () => {
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    } catch {
      // try the next name
    }
  }
  throw new Error("Chromium is not installed: `apt-get install chromium` (npm test installs it).");
};

/** Launches headless Chromium with the flags this network-less machine needs. */
export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: chromiumPath(),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-quic",
    ],
  });

/** The base URL of the API under test (`wrangler dev`, started by scripts/test.mjs), if any. */
export const e2eUrl = process.env.APE_E2E_URL;

/** The web UI under test (scripts/test.mjs serves it), if any. */
export const e2eWebUrl = process.env.APE_E2E_WEB_URL;
