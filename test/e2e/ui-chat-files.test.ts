import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, scriptFake, signUp } from "../helpers/ui.js";

// A file dropped on a conversation: uploaded, read, attached, and the next answer grounded in it with its
// citation. The `groq` model answers from the scripted scope of the e2e fakes (scripts/e2e-fakes.mjs).
const fake = process.env.APE_E2E_FAKE_RESEARCH_LLM;
const CAKE = "# Baking\n\nThe chocolate cake recipe needs cocoa, flour, sugar and eggs, baked for forty minutes.\n";

/** A DataTransfer holding one file, built in the page, as a drag from the desktop carries it. */
const fileDrag = (name: string, text: string) =>
  `(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)}, { type: "text/markdown" }));
    return transfer;
  })()`;

describe.skipIf(!e2eWebUrl)("the web UI: files in a chat", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("takes a file dropped on the conversation, waits until it is read, and answers citing it", async () => {
    await fetch(`${fake}/__fake/reset`, { method: "POST" });
    await scriptFake(
      fake,
      { reply: "Hello! Drop a file and ask me about it." },
      { reply: "Cake questions" },
      { reply: "The cake needs cocoa, flour, sugar and eggs [1]." },
    );
    const context = await newContext(browser);
    const { page } = await signUp(context);
    await expect.poll(() => page.getByLabel("Model").locator("option").allTextContents()).toContain("groq");
    await page.getByLabel("Model").selectOption("groq");
    await page.getByLabel("Message APE").fill("Hello");
    await page.getByLabel("Message APE").press("Enter");
    await page.waitForURL(/\/chat\/conv_/);
    const answers = page.getByRole("article", { name: "APE answered" });
    await expect.poll(() => answers.last().textContent(), { timeout: 20_000 }).toContain("Drop a file");
    await expect.poll(() => page.getByRole("button", { name: "Send" }).count()).toBe(1);

    // Dropped on the conversation, then asked about at once: the question waits for the file to be read.
    const conversation = page.getByRole("region", { name: "Conversation" });
    const drag = await page.evaluateHandle(fileDrag("cake.md", CAKE));
    await conversation.dispatchEvent("dragover", { dataTransfer: drag });
    await conversation.dispatchEvent("drop", { dataTransfer: drag });
    const attached = page.getByRole("list", { name: "Attached files" });
    await expect.poll(() => attached.textContent()).toContain("cake.md");
    await page.getByLabel("Message APE").fill("What does the chocolate cake recipe need?");
    await page.getByLabel("Message APE").press("Enter");
    const answer = answers.last();
    await expect.poll(() => answer.textContent(), { timeout: 40_000 }).toContain("cocoa, flour");
    await expect.poll(() => page.locator(".message.streaming").count()).toBe(0);
    const citation = answer.getByRole("list", { name: "Citations" }).getByRole("link").first();
    await expect.poll(() => citation.textContent()).toContain("cake.md, page 1");
    expect(await answer.getByRole("link", { name: "[1]" }).count()).toBe(1);
    // The file is now one of the conversation's documents.
    expect(await page.locator(".chat-header").textContent()).toContain("1 document ");
    expect(await attached.count()).toBe(0);
    await capture(page, "chat-file");

    await citation.click();
    await page.waitForURL(/\/documents\/doc_.*page=1/);
    await expect.poll(() => page.locator(".doc-text").first().textContent()).toContain("chocolate cake");
    await context.close();
  });
});
