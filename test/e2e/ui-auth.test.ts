import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, signUp, webUrl } from "../helpers/ui.js";

describe.skipIf(!e2eWebUrl)("the web UI: accounts", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("signs up, stays signed in across a reload without any token in storage, signs out and back in", async () => {
    const context = await newContext(browser);
    const signIn = await context.newPage();
    await signIn.goto(webUrl("/chat"));
    // Not signed in: the sign-in screen, remembering where the person was going.
    await signIn.waitForURL(/\/sign-in\?next=/);
    await capture(signIn, "sign-in");
    // A wrong password shows the API's own words, not a blank screen.
    await signIn.getByLabel("Email").fill("nobody@example.com");
    await signIn.getByLabel("Password").fill("not the password");
    await signIn.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => signIn.getByRole("alert").textContent()).toMatch(/\S/);
    await signIn.close();

    const { page, email, password } = await signUp(context);
    await page.goto(webUrl("/sign-up"));
    await page.waitForURL(/\/chat/);

    // The session survives a reload through the HttpOnly cookie, and nothing readable by script holds a token.
    await page.reload();
    await page.waitForURL(/\/chat/);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    const stored = await page.evaluate<string>(
      "JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie",
    );
    expect(stored).not.toMatch(/rt_|eyJ/);
    const cookies = await context.cookies();
    const refresh = cookies.find((c) => c.name === "ape_refresh");
    expect(refresh).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/api/v1/auth" });

    // The theme toggle: dark on demand, kept across a reload.
    await page.getByLabel("Theme").selectOption("dark");
    await expect.poll(() => page.evaluate<string | undefined>("document.documentElement.dataset.theme")).toBe("dark");
    await page.reload();
    await expect.poll(() => page.evaluate<string | undefined>("document.documentElement.dataset.theme")).toBe("dark");
    await page.getByLabel("Theme").selectOption("system");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in/);
    expect((await context.cookies()).find((c) => c.name === "ape_refresh")).toBeUndefined();
    // Back in with the keyboard alone: focus moved to the new screen, so Tab reaches its first field, then the
    // next, and Enter sends the form.
    await expect.poll(() => page.evaluate<string | undefined>("document.activeElement?.id")).toBe("main");
    await page.keyboard.press("Tab");
    expect(await page.evaluate<string>("document.activeElement.type")).toBe("email");
    await page.keyboard.type(email);
    await page.keyboard.press("Tab");
    await page.keyboard.type(password);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/chat/);
    await context.close();
  });

  it("offers sign-up, forgot and reset password screens that explain themselves", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(webUrl("/sign-up"));
    await page.getByLabel("Email").fill(`weak-${crypto.randomUUID().slice(0, 6)}@example.com`);
    await page.getByLabel("Password").fill("password");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/\S/);
    await capture(page, "sign-up");

    await page.goto(webUrl("/forgot-password"));
    // A fresh address each run: reset requests are limited per account.
    const someone = `someone-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await page.getByLabel("Email").fill(someone);
    await page.getByRole("button", { name: "Send the link" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain(someone);
    await capture(page, "forgot-password");

    await page.goto(webUrl("/reset-password?token=not-a-real-token"));
    await page.getByLabel("New password").fill("a long and unusual passphrase 42");
    await page.getByRole("button", { name: "Set the password" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/\S/);
    await capture(page, "reset-password");
    await context.close();
  });

  it("fits a phone, in dark mode", async () => {
    const context = await newContext(browser, { phone: true, dark: true });
    const { page } = await signUp(context);
    await page.getByLabel("Message APE").waitFor();
    await capture(page, "chat-phone-dark");
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(390);
    await context.close();
  });
});
