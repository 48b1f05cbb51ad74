import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, signUp } from "../helpers/ui.js";

describe.skipIf(!e2eWebUrl)("the web UI: documents", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("uploads a file, shows it until ready, previews its text and deletes it", async () => {
    const context = await newContext(browser);
    const { page } = await signUp(context);
    await page.getByRole("link", { name: "Documents" }).click();
    await page.waitForURL(/\/documents$/);
    await expect.poll(() => page.getByText("No documents yet").count()).toBe(1);

    await page.getByLabel("Upload documents").setInputFiles({
      name: "notes.md",
      mimeType: "text/markdown",
      buffer: Buffer.from("# Field notes\n\nThe chocolate cake recipe needs cocoa, flour and eggs.\n"),
    });
    const row = page.getByRole("row", { name: /notes\.md/ });
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain("ready");
    await capture(page, "documents");

    await row.getByRole("link", { name: "notes.md" }).click();
    await page.waitForURL(/\/documents\/doc_/);
    await expect.poll(() => page.locator(".doc-text").first().textContent()).toContain("chocolate cake recipe");
    await capture(page, "document-preview");

    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete" }).click();
    await page.waitForURL(/\/documents$/);
    await expect.poll(() => page.getByText("No documents yet").count()).toBe(1);
    await context.close();
  });

  it("says why an upload is refused", async () => {
    const context = await newContext(browser);
    const { page } = await signUp(context);
    await page.goto(page.url().replace(/\/chat.*/, "/documents"));
    await page.getByLabel("Upload documents").setInputFiles({
      name: "program.exe",
      mimeType: "application/octet-stream",
      buffer: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0xff, 0xff, 0x00, 0x00]),
    });
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/\S/);
    await context.close();
  });
});
