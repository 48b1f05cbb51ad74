/**
 * Helpers for the web UI's browser journeys (test/e2e/ui-*.test.ts): a signed-up user in a fresh browser
 * context, screenshots under test-results/screenshots, and an axe-core check of the page.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";
import { e2eWebUrl } from "./browser.js";

const root = join(import.meta.dirname, "..", "..");
const screenshots = join(root, "test-results", "screenshots");
const axeSource = () => readFileSync(join(root, "web", "node_modules", "axe-core", "axe.min.js"), "utf8");

export const webUrl = (path = "/") => `${e2eWebUrl}${path}`;

// Kept on every page from its start, so a journey can assert the Content-Security-Policy refused nothing.
const recordCspViolations = `
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
  });
`;

/**
 * A fresh context (its own cookies) at a desktop size, or a phone's with `phone`, that may use the clipboard
 * (copy buttons) and records what the Content-Security-Policy refuses.
 */
export const newContext = async (browser: Browser, { phone = false, dark = false } = {}) => {
  const context = await browser.newContext({
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 860 },
    colorScheme: dark ? "dark" : "light",
    acceptDownloads: true,
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: e2eWebUrl });
  await context.addInitScript(recordCspViolations);
  return context;
};

/** What the page's Content-Security-Policy refused so far (nothing, in a page that keeps to it). */
export const cspViolations = (page: Page) => page.evaluate<string[]>("window.__cspViolations ?? []");

/** The text on the clipboard (the context may read it: see newContext). */
export const clipboardText = (page: Page) => page.evaluate<string>("navigator.clipboard.readText()");

/** Signs up a new person through the UI and waits for the chat screen. */
export const signUp = async (context: BrowserContext, name = "Ada") => {
  const page = await context.newPage();
  const email = `ui-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = `a long passphrase ${crypto.randomUUID().slice(0, 8)}`;
  await page.goto(webUrl("/sign-up"));
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/chat/);
  return { page, email, password };
};

/** Writes test-results/screenshots/<name>.png and returns its path. */
export const screenshot = async (page: Page, name: string) => {
  mkdirSync(screenshots, { recursive: true });
  const path = join(screenshots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
};

type AxeResult = { violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] };

/** Runs axe-core on the page and fails on any serious or critical violation, naming each. */
export const expectAccessible = async (page: Page) => {
  // Page code as strings: the root tsconfig types Workers code and has no DOM types.
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern (a
  // script tag with axe's source would be inline script, which it refuses).
  if (!(await page.evaluate<boolean>('"axe" in window'))) await page.evaluate(axeSource());
  const result = await page.evaluate<AxeResult>('axe.run(document, { resultTypes: ["violations"] })');
  const bad = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(bad).toEqual([]);
};

/** Screenshot, accessibility check and Content-Security-Policy check of one screen, in one call. */
export const capture = async (page: Page, name: string) => {
  await screenshot(page, name);
  await expectAccessible(page);
  expect(await cspViolations(page)).toEqual([]);
};

/** Scripts the next answer(s) of one of the LLM fakes' scopes (see scripts/e2e-fakes.mjs). */
export const scriptFake = async (base: string | undefined, ...entries: object[]) => {
  if (!base) throw new Error("no fake to script: run under scripts/test.mjs or scripts/ui-stack.mjs");
  for (const entry of entries) {
    const res = await fetch(`${base}/__fake/next`, { method: "POST", body: JSON.stringify(entry) });
    if (res.status !== 204) throw new Error(`scripting ${base} failed: ${res.status}`);
  }
};
