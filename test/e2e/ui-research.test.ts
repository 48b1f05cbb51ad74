import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, scriptFake, signUp } from "../helpers/ui.js";

// The web as the Firecrawl fake serves it, and the model's answers in the order the pipeline asks (as in
// test/integration/research.test.ts): a plan, one section per sub-question, a summary.
const PAGES: Record<string, { title: string; text: string }> = {
  "http://physics.site.test/boiling": {
    title: "Boiling point of water",
    text: "At sea level, pure water boils at 100 degrees Celsius. The boiling point is where vapour pressure equals the pressure of the air around the water.",
  },
  "http://weather.site.test/pressure": {
    title: "Air pressure and altitude",
    text: "Atmospheric pressure falls as altitude rises: at 3000 metres it is about 70 percent of the pressure at sea level, so water boils near 90 degrees Celsius there.",
  },
  "http://kitchen.site.test/pasta": {
    title: "Cooking pasta in the mountains",
    text: "Cooking pasta in the mountains takes longer, because the water is cooler when it boils. Cooks add a few minutes to the cooking time above 2000 metres.",
  },
  "http://spam.site.test/boiling": {
    title: "Boiling water secrets",
    text: "Boiling water at sea level pressure altitude pasta cooking: click here for miracles.",
  },
};
const html = ({ title, text }: { title: string; text: string }) =>
  `<html><head><title>${title}</title></head><body><p>${text}</p></body></html>`;
const answers = [
  // The plan takes six seconds, so the page is seen live in its planning stage.
  {
    hangMs: 6000,
    reply: {
      sub_questions: [
        "boiling point of water at sea level",
        "atmospheric pressure at altitude",
        "cooking pasta in the mountains",
      ],
    },
  },
  {
    reply: {
      text: "At sea level, pure water boils at 100 degrees Celsius [1].",
      quotes: [{ n: 1, quote: "pure water boils at 100 degrees Celsius" }],
    },
  },
  {
    reply: {
      text: "At 3000 metres water boils near 90 degrees Celsius [1].",
      quotes: [{ n: 1, quote: "water boils near 90 degrees Celsius there" }],
    },
  },
  {
    reply: {
      text: "Pasta takes longer to cook in the mountains [1].",
      quotes: [{ n: 1, quote: "Cooking pasta in the mountains takes longer" }],
    },
  },
  { reply: { summary: "Water boils at 100 degrees Celsius at sea level [1] and near 90 degrees at 3000 metres [2]." } },
];

describe.skipIf(!e2eWebUrl)("the web UI: research", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
    const site = await fetch(`${process.env.APE_E2E_FAKE_FIRECRAWL}/__fake/site`, {
      method: "POST",
      body: JSON.stringify({
        pages: Object.fromEntries(Object.entries(PAGES).map(([url, page]) => [url, html(page)])),
      }),
    });
    expect(site.status).toBe(204);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("starts a session with a depth and excluded domains, follows its stages, and shows the cited report, its sources and exports", async () => {
    // Start from an empty script: answers a failed earlier run left behind would shift these.
    await fetch(`${process.env.APE_E2E_FAKE_RESEARCH_LLM}/__fake/reset`, { method: "POST" });
    await scriptFake(process.env.APE_E2E_FAKE_RESEARCH_LLM, ...answers);
    const context = await newContext(browser);
    const { page } = await signUp(context);
    await page.getByRole("link", { name: "Research" }).click();
    await expect.poll(() => page.getByText("No research yet").count(), { timeout: 10_000 }).toBe(1);
    await page.getByRole("link", { name: "New research" }).click();
    await page
      .getByLabel("Question")
      .fill(`How does altitude change the boiling point of water? ${crypto.randomUUID().slice(0, 6)}`);
    await page.getByLabel("Depth").selectOption("standard");
    await page.getByLabel("Never these domains").fill("spam.site.test");
    await capture(page, "research-new");
    await page.getByRole("button", { name: "Start research" }).click();
    await page.waitForURL(/\/research\/res_/);
    // Live: the planning stage is the current one while the model thinks, with a way to cancel.
    const progress = page.getByRole("list", { name: "Progress" });
    await expect
      .poll(() => progress.locator('[aria-current="step"]').textContent(), { timeout: 5_000 })
      .toBe("planning");
    expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(1);
    await capture(page, "research-running");

    // Watched live from its events: the plan's sub-questions, each source as it is read, each section written.
    const plan = page.getByRole("region", { name: "Plan" });
    await expect
      .poll(() => plan.getByRole("listitem").allTextContents(), { timeout: 20_000 })
      .toEqual([
        "boiling point of water at sea level",
        "atmospheric pressure at altitude",
        "cooking pasta in the mountains",
      ]);
    const read = page.getByRole("region", { name: "Sources as they are read" });
    await expect.poll(() => read.textContent(), { timeout: 30_000 }).toContain("Boiling point of water");
    const written = page.getByRole("region", { name: "Sections written" });
    await expect.poll(() => written.getByRole("listitem").count(), { timeout: 30_000 }).toBe(3);

    await expect.poll(() => page.locator(".badge").first().textContent(), { timeout: 60_000 }).toBe("completed");
    const report = page.getByRole("region", { name: "Report" });
    await expect.poll(() => report.textContent()).toContain("100 degrees Celsius");
    const sources = page.locator("ol.sources li");
    expect(await sources.count()).toBeGreaterThan(0);
    expect(await page.locator("ol.sources").textContent()).not.toContain("spam.site.test");
    // A citation in the report jumps to its source.
    await report.getByRole("link", { name: "[1]" }).first().click();
    await expect.poll(() => page.evaluate<string>("location.hash")).toBe("#source-1");
    await capture(page, "research");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Markdown" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.md$/);
    expect(readFileSync(await download.path(), "utf8")).toContain("100 degrees Celsius");
    await context.close();
  });
});
