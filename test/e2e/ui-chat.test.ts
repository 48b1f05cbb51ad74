import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, signUp } from "../helpers/ui.js";

// The chat fake (scripts/e2e-fakes.mjs) answers `echo: <the message>`, one word a chunk, slowly: so an answer
// can be caught mid-stream, and whatever the message holds (Markdown, HTML, a citation marker) comes back as
// model output.
const filler = Array.from({ length: 45 }, (_, i) => `word${i}`).join(" ");

const send = async (page: Page, text: string) => {
  await page.getByLabel("Message").fill(text);
  await page.getByRole("button", { name: "Send" }).click();
};

describe.skipIf(!e2eWebUrl)("the web UI: chat", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("starts a conversation with a model and a document, streams a safe answer, resumes it after a reload, cites, stops and searches", async () => {
    const context = await newContext(browser);
    const { page } = await signUp(context);

    // A document to ground the answers in.
    await page.getByRole("link", { name: "Documents" }).click();
    await page.getByLabel("Upload documents").setInputFiles({
      name: "cake.md",
      mimeType: "text/markdown",
      buffer: Buffer.from(
        "# Baking\n\nThe chocolate cake recipe needs cocoa, flour, sugar and eggs, baked for forty minutes.\n",
      ),
    });
    await expect
      .poll(() => page.getByRole("row", { name: /cake\.md/ }).textContent(), { timeout: 30_000 })
      .toContain("ready");

    // A new conversation: title, model choice, the document attached.
    await page.getByRole("link", { name: "Chat" }).click();
    await page.getByLabel("Title").fill("Lisbon baking plans");
    await expect.poll(() => page.getByLabel("Model").locator("option").allTextContents()).toContain("openai");
    await page.getByLabel("Model").selectOption("openai");
    await page.getByLabel("cake.md").check();
    await capture(page, "chat-new");
    await page.getByRole("button", { name: "Start conversation" }).click();
    await page.waitForURL(/\/chat\/conv_/);

    // Model output with Markdown, a code block and HTML that must not become HTML.
    await send(
      page,
      [
        "What does the chocolate cake recipe need? **bold** [1]",
        "",
        "```python",
        "def bake(minutes):",
        "    return minutes * 2",
        "```",
        "",
        `<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> ${filler} theend`,
      ].join("\n"),
    );
    // Mid-stream: the Stop button shows; then the page reloads and the answer picks up where the turn is.
    await page.getByRole("button", { name: "Stop" }).waitFor();
    await expect.poll(() => page.locator(".message.streaming").textContent()).toContain("echo");
    await page.reload();
    await page.getByRole("button", { name: "Stop" }).waitFor();
    await expect.poll(() => page.locator(".message.streaming").count()).toBe(1);
    const answer = page.locator(".message.assistant").last();
    await expect.poll(() => answer.textContent(), { timeout: 30_000 }).toContain("theend");
    await expect.poll(() => page.locator(".message.streaming").count()).toBe(0);
    await expect.poll(() => page.getByRole("button", { name: "Send" }).count()).toBe(1);

    // Rendered safely: bold and highlighted code, the HTML shown as text, nothing run.
    expect(await answer.locator(".markdown strong").first().textContent()).toBe("bold");
    expect(await answer.locator("pre.code .hljs span").count()).toBeGreaterThan(0);
    expect(await answer.locator("img, script").count()).toBe(0);
    expect(await answer.textContent()).toContain("<img src=x");
    expect(await page.evaluate("window.__pwned")).toBeUndefined();

    // The citation opens the cited document's page.
    const citation = answer.getByRole("list", { name: "Citations" }).getByRole("link").first();
    await expect.poll(() => citation.textContent()).toContain("cake.md");
    await capture(page, "chat");
    await citation.click();
    await page.waitForURL(/\/documents\/doc_.*page=1/);
    await expect.poll(() => page.locator(".doc-text").first().textContent()).toContain("chocolate cake");
    await page.goBack();
    await page.waitForURL(/\/chat\/conv_/);

    // Stop: a long answer cut short.
    await send(page, `Tell me everything ${filler} ${filler} lastword`);
    await page.getByRole("button", { name: "Stop" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Send" }).count(), { timeout: 20_000 }).toBe(1);
    const stopped = page.locator(".message.assistant").last();
    await expect.poll(() => stopped.textContent()).toContain("cancelled");
    expect(await stopped.textContent()).not.toContain("lastword");

    // Search the conversation list.
    await page.getByLabel("Search conversations").fill("lisbon");
    await expect
      .poll(() => page.getByRole("complementary").getByRole("link", { name: "Lisbon baking plans" }).count())
      .toBe(1);
    await page.getByLabel("Search conversations").fill("nothing like this");
    await expect.poll(() => page.getByText("No conversation matches").count()).toBe(1);
    await context.close();
  });
});
