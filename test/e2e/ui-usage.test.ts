import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, scriptFake, signUp } from "../helpers/ui.js";

describe.skipIf(!e2eWebUrl)("the web UI: usage", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("starts empty, then charts a model call by day, service and model, with totals and a budget", async () => {
    const context = await newContext(browser);
    const { page } = await signUp(context);
    await page.getByRole("link", { name: "Usage" }).click();
    await expect.poll(() => page.getByText("No usage in these days yet").count(), { timeout: 10_000 }).toBe(1);

    // One model call, through the code tools.
    await scriptFake(process.env.APE_E2E_FAKE_CODE_LLM, { reply: { code: "print(1)", language: "python", notes: [] } });
    await page.getByRole("link", { name: "Code", exact: true }).click();
    await page.getByLabel("What should the code do?").fill("Print one");
    await expect.poll(() => page.getByLabel("Model").locator("option").allTextContents()).toContain("compat");
    await page.getByLabel("Model").selectOption("compat");
    await page.getByRole("button", { name: "Generate" }).click();
    await expect.poll(() => page.getByRole("region", { name: "Result" }).count(), { timeout: 20_000 }).toBe(1);

    await page.getByRole("link", { name: "Usage" }).click();
    const requests = page.locator(".totals div").filter({ hasText: "Requests" }).locator("dd");
    await expect.poll(() => requests.textContent(), { timeout: 20_000 }).toBe("1");
    await expect.poll(() => page.locator(".chart canvas").count()).toBe(3);
    expect(await page.getByRole("img", { name: /By service: code \d+ tokens/ }).count()).toBe(1);

    await page.getByLabel("Budget in USD").fill("5");
    await page.getByRole("button", { name: "Save budget" }).click();
    await expect
      .poll(() => page.locator(".card").filter({ hasText: "Monthly budget" }).textContent())
      .toContain("of $5.00");
    await capture(page, "usage");
    await context.close();
  });
});
