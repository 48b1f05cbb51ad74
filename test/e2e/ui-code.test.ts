import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, scriptFake, signUp } from "../helpers/ui.js";

const CODE = ["import os", "", "def run(cmd):", "    os.system(cmd)", "    return eval(cmd)"].join("\n");

describe.skipIf(!e2eWebUrl)("the web UI: code tools", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("reviews code with findings ordered by severity and line, and generates, explains and converts", async () => {
    const fake = process.env.APE_E2E_FAKE_CODE_LLM;
    await scriptFake(fake, {
      reply: {
        summary: "Runs shell commands and evaluates input.",
        findings: [
          {
            severity: "medium",
            line_start: 1,
            line_end: 1,
            title: "Unused import style",
            explanation: "Prefer subprocess.",
            suggested_fix: "import subprocess",
          },
          {
            severity: "critical",
            line_start: 5,
            line_end: 5,
            title: "eval of input",
            explanation: "Arbitrary code runs.",
            suggested_fix: "return cmd",
          },
          {
            severity: "high",
            line_start: 4,
            line_end: 4,
            title: "Shell injection",
            explanation: "cmd reaches a shell.",
            suggested_fix: "subprocess.run([cmd])",
          },
        ],
      },
    });
    const context = await newContext(browser);
    const { page } = await signUp(context);
    await page.getByRole("link", { name: "Code", exact: true }).click();
    await page.getByRole("link", { name: "Review" }).click();
    await page.waitForURL(/\/code\/review/);
    await page.getByLabel("Code", { exact: true }).fill(CODE);
    await expect.poll(() => page.getByLabel("Model").locator("option").allTextContents()).toContain("compat");
    await page.getByLabel("Model").selectOption("compat");
    await page.getByRole("button", { name: "Review" }).click();
    const findings = page.locator("ol.findings > li");
    await expect.poll(() => findings.count(), { timeout: 20_000 }).toBe(3);
    const order = await findings.locator(".badge").allTextContents();
    expect(order).toEqual(["critical", "high", "medium"]);
    expect(await findings.first().textContent()).toContain("line 5");
    await capture(page, "code-review");
    // The same findings in dark mode, highlighted code included, keep their contrast.
    await page.emulateMedia({ colorScheme: "dark" });
    await capture(page, "code-review-dark");
    await page.emulateMedia({ colorScheme: "light" });

    await scriptFake(fake, {
      reply: { code: "def add(a, b):\n    return a + b\n", language: "python", notes: ["Pure function."] },
    });
    await page.getByRole("link", { name: "Generate" }).click();
    await page.getByLabel("What should the code do?").fill("Add two numbers");
    await page.getByLabel("Model").selectOption("compat");
    await page.getByRole("button", { name: "Generate" }).click();
    await expect
      .poll(() => page.getByRole("region", { name: "Result" }).textContent(), { timeout: 20_000 })
      .toContain("return a + b");
    await capture(page, "code-generate");

    await scriptFake(fake, {
      reply: { summary: "Adds.", explanation: "It **adds** two numbers.", key_points: ["No side effects"] },
    });
    await page.getByRole("link", { name: "Explain" }).click();
    await page.waitForURL(/\/code\/explain/);
    await page.getByLabel("Code", { exact: true }).fill("def add(a, b):\n    return a + b");
    await page.getByLabel("Model").selectOption("compat");
    await page.getByRole("button", { name: "Explain" }).click();
    await expect
      .poll(() => page.getByRole("region", { name: "Result" }).textContent(), { timeout: 20_000 })
      .toContain("No side effects");

    await scriptFake(fake, {
      reply: { code: "const add = (a: number, b: number) => a + b;", from: "python", to: "typescript", notes: [] },
    });
    await page.getByRole("link", { name: "Convert" }).click();
    await page.getByLabel("Code", { exact: true }).fill("def add(a, b):\n    return a + b");
    await page.getByRole("combobox", { name: /^To/ }).selectOption("typescript");
    await page.getByLabel("Model").selectOption("compat");
    await page.getByRole("button", { name: "Convert" }).click();
    await expect
      .poll(() => page.getByRole("region", { name: "Result" }).textContent(), { timeout: 20_000 })
      .toContain("const add");
    await capture(page, "code-convert");
    await context.close();
  });
});
