import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eUrl, launchBrowser } from "../helpers/browser.js";

describe.skipIf(!e2eUrl)("the API reference in a browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("renders the operations from the OpenAPI document, with no console errors or CSP violations", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));

    const response = await page.goto(`${e2eUrl}/api/v1/docs`);
    expect(response?.status()).toBe(200);
    await expect
      .poll(() => page.locator(".information-container .title").textContent(), { timeout: 20_000 })
      .toContain("APE");
    const paths = await page.locator(".opblock-summary-path").allTextContents();
    expect(paths.map((p) => p.replace(/\u200b/g, ""))).toEqual(expect.arrayContaining(["/health", "/health/ready"]));

    // Try it out: the page calls the API from the browser and shows the answer.
    await page.locator("#operations-health-get_health_ready .opblock-summary").click();
    await page.locator("#operations-health-get_health_ready button.execute").click();
    await expect
      .poll(() => page.locator(".live-responses-table tbody .response-col_status").first().textContent())
      .toContain("200");

    await page.screenshot({ path: join("test-results", "docs.png"), fullPage: false });
    expect(problems).toEqual([]);
  });
});
