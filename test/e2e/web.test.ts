import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";

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
});
