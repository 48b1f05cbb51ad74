import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, scriptFake, signUp } from "../helpers/ui.js";

// A reload in the middle of an answer: the page shows what it had (kept in sessionStorage with the id of the
// last event), asks GET …/stream for what came after that id (Last-Event-ID), and the answer goes on with no
// word shown twice. The `groq` model streams from the scripted scope of the e2e fakes.
const fake = process.env.APE_E2E_FAKE_RESEARCH_LLM;
const REPLY = `${Array.from({ length: 50 }, (_, i) => `w${i + 1}`).join(" ")} theend`;

describe.skipIf(!e2eWebUrl)("the web UI: resuming an answer", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("continues an answer after a reload from the last event it saw, showing nothing twice", async () => {
    await fetch(`${fake}/__fake/reset`, { method: "POST" });
    await scriptFake(fake, { reply: REPLY, chunkDelayMs: 120 }, { reply: "Counting words" });
    const context = await newContext(browser);
    const { page } = await signUp(context);
    await expect.poll(() => page.getByLabel("Model").locator("option").allTextContents()).toContain("groq");
    await page.getByLabel("Model").selectOption("groq");
    await page.getByLabel("Message APE").fill("Count to fifty");
    await page.getByLabel("Message APE").press("Enter");
    await page.waitForURL(/\/chat\/conv_/);
    const live = page.locator(".message.streaming .markdown");
    await expect.poll(() => live.textContent(), { timeout: 10_000 }).toContain("w8 ");

    const resumed = page.waitForRequest((request: Request) => request.url().includes("/stream"));
    await page.reload();
    const request = await resumed;
    expect(request.headers()["last-event-id"]).toMatch(/^trn_[0-9A-Za-z]+\.\d+$/);
    // What the page had before the reload is there again at once, and the rest follows it.
    await expect.poll(() => live.textContent()).toContain("w1 w2 w3");
    await expect.poll(() => live.textContent(), { timeout: 15_000 }).toContain("w30 ");
    const midway = (await live.textContent())?.trim() ?? "";
    expect(REPLY.startsWith(midway)).toBe(true);
    await capture(page, "chat-resumed");

    const answer = page.getByRole("article", { name: "APE answered" }).last();
    await expect.poll(() => answer.textContent(), { timeout: 20_000 }).toContain("theend");
    expect((await answer.locator(".markdown").textContent())?.trim()).toBe(REPLY);
    await context.close();
  });
});
