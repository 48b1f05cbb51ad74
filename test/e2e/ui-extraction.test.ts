import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, signUp } from "../helpers/ui.js";

const CSV = ["name,price,email", "Widget,9.99,a@example.com", "Gadget,-5,b@example.com", "Thing,3,not-an-email"].join(
  "\n",
);

describe.skipIf(!e2eWebUrl)("the web UI: extraction", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("goes from an uploaded CSV to detected columns, a rule, live progress, marked invalid cells and an exported CSV", async () => {
    const context = await newContext(browser);
    const { page } = await signUp(context);
    await page.getByRole("link", { name: "Documents" }).click();
    await page
      .getByLabel("Upload documents")
      .setInputFiles({ name: "products.csv", mimeType: "text/csv", buffer: Buffer.from(CSV) });
    await expect
      .poll(() => page.getByRole("row", { name: /products\.csv/ }).textContent(), { timeout: 30_000 })
      .toContain("ready");

    await page.getByRole("link", { name: "Extraction" }).click();
    await expect.poll(() => page.getByText("No extraction jobs yet").count(), { timeout: 10_000 }).toBe(1);
    await page.getByRole("link", { name: "New extraction" }).click();
    await expect.poll(() => page.getByLabel("Document").locator("option").allTextContents()).toContain("products.csv");
    await page.getByRole("button", { name: "Auto-detect columns" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("3 columns");
    const names = await page
      .locator('input[aria-label$=" name"]')
      .evaluateAll((inputs) => inputs.map((input) => (input as unknown as { value: string }).value));
    expect(names).toEqual(["name", "price", "email"]);
    // A rule: prices are not negative; and e-mails must be e-mails.
    await page.getByLabel("Column 2 type").selectOption("number");
    await page.getByLabel("Column 2 minimum").fill("0");
    await page.getByLabel("Column 3 type").selectOption("email");
    await capture(page, "extraction-new");
    await page.getByRole("button", { name: "Start extraction" }).click();
    await page.waitForURL(/\/extraction\/ext_/);

    // Live progress until it completes, then the rows with the invalid cells marked and explained.
    await expect.poll(() => page.locator(".badge").first().textContent(), { timeout: 60_000 }).toBe("completed");
    const table = page.getByRole("table", { name: "Extracted rows" });
    await expect.poll(() => table.getByRole("row").count()).toBe(4);
    // Rows are numbered as people count them, from 1.
    expect(await table.locator("tbody th[scope=row]").allTextContents()).toEqual(["1", "2", "3"]);
    // The job is titled by what it reads (the file's name), with its id as a detail.
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("products.csv");
    expect(await page.locator("code", { hasText: /^ext_/ }).count()).toBe(1);
    const invalid = table.locator("td.invalid");
    await expect.poll(() => invalid.count()).toBe(2);
    expect(await invalid.nth(0).textContent()).toContain("-5");
    expect(await invalid.nth(1).textContent()).toContain("not-an-email");
    expect(await invalid.locator(".cell-error").count()).toBe(2);
    await capture(page, "extraction");

    // Export as CSV: a real download with the rows in it.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "CSV" }).click(),
    ]);
    const file = await download.path();
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const exported = readFileSync(file, "utf8");
    expect(exported).toContain("Widget");
    expect(exported).toContain("not-an-email");

    // The list shows the job.
    await page.getByRole("link", { name: "← Extraction" }).click();
    await expect.poll(() => page.locator(".cards .card").count()).toBe(1);
    expect(await page.locator(".cards .card a").textContent()).toBe("products.csv");
    await context.close();
  });
});
