import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, clipboardText, newContext, scriptFake, signUp } from "../helpers/ui.js";

// Conversations on the `groq` model, which the e2e fakes serve from a scripted scope (scripts/e2e-fakes.mjs):
// each answer below is taken in order, the conversation's title (made after the first answer) included.
const fake = process.env.APE_E2E_FAKE_RESEARCH_LLM;
const CODE = "def bake(minutes):\n    return minutes * 2";
const FIRST = [
  "Here is a **bold** plan with code:",
  "",
  "```python",
  CODE,
  "```",
  "",
  `<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> theend`,
].join("\n");
const filler = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");

const composer = (page: Page) => page.getByLabel("Message APE");
const answers = (page: Page) => page.getByRole("article", { name: "APE answered" });
const questions = (page: Page) => page.getByRole("article", { name: "You said" });

describe.skipIf(!e2eWebUrl)("the web UI: chat", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("opens on a message box: Enter starts the conversation, the answer streams, the title shows in the header; copy, regenerate, edit and resend, stop, rename, delete", async () => {
    await fetch(`${fake}/__fake/reset`, { method: "POST" });
    await scriptFake(
      fake,
      { reply: FIRST, chunkDelayMs: 30 },
      { reply: "Lisbon baking weekend" },
      { reply: "A regenerated answer about Lisbon" },
      { reply: "An answer about Porto instead" },
      { reply: `${filler} ${filler} lastword`, chunkDelayMs: 150 },
    );
    const context = await newContext(browser);
    const { page } = await signUp(context);

    // No form first: the message box, with the model beside it.
    await composer(page).waitFor();
    expect(await page.getByLabel("Title").count()).toBe(0);
    await expect.poll(() => page.getByLabel("Model").locator("option").allTextContents()).toContain("groq");
    await page.getByLabel("Model").selectOption("groq");
    await capture(page, "chat-start");

    // Typing and pressing Enter starts the conversation and sends the message.
    await composer(page).fill("Plan a baking weekend in Lisbon");
    await composer(page).press("Enter");
    await page.waitForURL(/\/chat\/conv_/);
    await expect.poll(() => questions(page).first().textContent()).toContain("Plan a baking weekend in Lisbon");
    const answer = answers(page).last();
    await expect.poll(() => answer.textContent(), { timeout: 30_000 }).toContain("theend");
    // The title, made after the first answer, reaches the header (and the sidebar).
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent(), { timeout: 20_000 })
      .toBe("Lisbon baking weekend");
    await expect
      .poll(() => page.getByRole("complementary").getByRole("link", { name: "Lisbon baking weekend" }).count())
      .toBe(1);
    // The model and tokens, quietly, under the answer.
    expect(await answer.locator(".message-details").textContent()).toMatch(/groq\/\S+ · \d+ tokens/);

    // Rendered safely: bold and highlighted code, the HTML shown as text, nothing run.
    expect(await answer.locator(".markdown strong").first().textContent()).toBe("bold");
    expect(await answer.locator("pre.code .hljs span").count()).toBeGreaterThan(0);
    expect(await answer.locator("img, script").count()).toBe(0);
    expect(await answer.textContent()).toContain("<img src=x");
    expect(await page.evaluate("window.__pwned")).toBeUndefined();

    // Copy the answer, and copy its code block.
    await answer.getByRole("button", { name: "Copy", exact: true }).click();
    await expect.poll(() => clipboardText(page)).toBe(FIRST);
    await answer.getByRole("button", { name: "Copy code" }).click();
    await expect.poll(() => clipboardText(page)).toBe(CODE);
    await expect.poll(() => answer.locator("button.copy-code").textContent()).toBe("Copied");
    await capture(page, "chat");

    // Regenerate: the answer is replaced, not added to.
    await answer.getByRole("button", { name: "Regenerate" }).click();
    await expect.poll(() => answers(page).last().textContent(), { timeout: 20_000 }).toContain("A regenerated answer");
    await expect.poll(() => page.locator(".message.streaming").count()).toBe(0);
    expect(await answers(page).count()).toBe(1);
    expect(await questions(page).count()).toBe(1);

    // Edit the last message and send it again: the old question and its answer give way to the new ones.
    await questions(page).last().getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Edit your message").fill("Plan a baking weekend in Porto");
    await page.getByRole("button", { name: "Send again" }).click();
    await expect.poll(() => answers(page).last().textContent(), { timeout: 20_000 }).toContain("Porto instead");
    await expect.poll(() => page.locator(".message.streaming").count()).toBe(0);
    expect(await questions(page).allTextContents()).toEqual([expect.stringContaining("in Porto")]);
    expect(await answers(page).count()).toBe(1);
    await capture(page, "chat-edited");

    // Stop: a long answer cut short, kept as cancelled.
    await composer(page).fill("Tell me everything");
    await composer(page).press("Enter");
    await expect.poll(() => page.locator(".message.streaming").textContent(), { timeout: 10_000 }).toContain("word3");
    await page.getByRole("button", { name: "Stop" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Send" }).count(), { timeout: 20_000 }).toBe(1);
    const stopped = answers(page).last();
    await expect.poll(() => stopped.textContent()).toContain("cancelled");
    expect(await stopped.textContent()).not.toContain("lastword");

    // Rename from the sidebar: the header follows.
    const sidebar = page.getByRole("complementary");
    await sidebar.getByRole("button", { name: "Rename Lisbon baking weekend" }).click();
    await sidebar.getByLabel("New title for Lisbon baking weekend").fill("Porto weekend");
    await sidebar.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Porto weekend");
    await page.getByLabel("Search conversations").fill("porto");
    await expect.poll(() => sidebar.getByRole("link", { name: "Porto weekend" }).count()).toBe(1);
    await page.getByLabel("Search conversations").fill("nothing like this");
    await expect.poll(() => page.getByText("No conversation matches").count()).toBe(1);
    await page.getByLabel("Search conversations").fill("");

    // Delete from the sidebar: back to a new chat, which remembers the model chosen last.
    page.once("dialog", (dialog) => void dialog.accept());
    await sidebar.getByRole("button", { name: "Delete Porto weekend" }).click();
    await page.waitForURL(/\/chat$/);
    await expect.poll(() => page.getByText("No conversations yet.").count()).toBe(1);
    expect(await page.getByLabel("Model").inputValue()).toBe("groq");
    await context.close();
  });
});
