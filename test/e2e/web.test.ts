import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eUrl, e2eWebUrl, launchBrowser } from "../helpers/browser.js";

describe.skipIf(!e2eWebUrl)("the web UI", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("serves its page, pointing people at the API reference", async () => {
    const page = await browser.newPage();
    const response = await page.goto(e2eWebUrl ?? "");
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.locator("h1").textContent()).toContain("APE");
    expect(await page.locator('a[href$="/api/v1/docs"]').count()).toBe(1);
  });

  it("sends a Content-Security-Policy that allows only itself and the API, and keeps to it", async () => {
    const page = await browser.newPage();
    const response = await page.goto(e2eWebUrl ?? "");
    const policy = response?.headers()["content-security-policy"] ?? "";
    const directives = new Map(
      policy.split(";").map((d) => {
        const [name = "", ...values] = d.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    expect(directives.get("default-src")).toEqual(["'self'"]);
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("connect-src")).toContain(new URL(e2eUrl ?? "").origin);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    // No inline script in the page: every script it loads is a file of its own origin.
    const html = await response?.text();
    expect(html?.match(/<script(?![^>]*\bsrc=)[^>]*>/g) ?? []).toEqual([]);
    // The page runs under it: it reached the API (the sign-in screen asks it for a session) and refused nothing.
    const violations: string[] = [];
    page.on("console", (m) => {
      if (m.text().includes("Content Security Policy")) violations.push(m.text());
    });
    await page.reload();
    await expect.poll(() => page.getByRole("button", { name: "Sign in" }).count(), { timeout: 10_000 }).toBe(1);
    expect(violations).toEqual([]);
  });
});
