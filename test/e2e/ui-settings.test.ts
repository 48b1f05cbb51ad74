import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eUrl, e2eWebUrl, launchBrowser } from "../helpers/browser.js";
import { capture, newContext, signUp } from "../helpers/ui.js";

describe.skipIf(!e2eWebUrl)("the web UI: settings", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("edits the profile, creates an API key shown once that works, and revokes it", async () => {
    const context = await newContext(browser);
    const { page } = await signUp(context, "Ada");
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.getByRole("button", { name: "Save profile" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Saved.");
    await capture(page, "settings-profile");

    await page.getByRole("link", { name: "API keys" }).click();
    await expect.poll(() => page.getByText("No API keys yet").count()).toBe(1);
    await page.getByLabel("Key name").fill("My script");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = page.getByTestId("secret");
    await expect.poll(() => secret.textContent()).toMatch(/^ape_/);
    const key = (await secret.textContent()) ?? "";
    await page.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Copied" }).count()).toBe(1);
    await expect.poll(() => page.getByRole("row", { name: /My script/ }).count()).toBe(1);
    await capture(page, "settings-api-keys");
    // The key is real: it reads the account, until it is revoked.
    const me = await fetch(`${e2eUrl}/api/v1/users/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(me.status).toBe(200);
    await page.getByRole("button", { name: "Revoke My script" }).click();
    await expect.poll(() => page.getByRole("row", { name: /My script/ }).textContent()).toContain("revoked");
    // Shown once: after a reload only its prefix is left.
    await page.reload();
    await expect.poll(() => page.getByRole("row", { name: /My script/ }).count()).toBe(1);
    expect(await page.getByTestId("secret").count()).toBe(0);
    const after = await fetch(`${e2eUrl}/api/v1/users/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(after.status).toBe(401);
    await context.close();
  });

  it("adds a webhook endpoint, sends a test event, lists its deliveries and redelivers one", async () => {
    const context = await newContext(browser);
    const { page } = await signUp(context);
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("link", { name: "Webhooks" }).click();
    await expect.poll(() => page.getByText("No webhook endpoints yet").count()).toBe(1);
    await page.getByLabel("Endpoint URL").fill(process.env.APE_E2E_HOOK_URL ?? "");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect.poll(() => page.getByTestId("secret").textContent()).toMatch(/^whsec_/);

    await page.getByRole("button", { name: "Send test event" }).click();
    const deliveries = page.locator(".deliveries li");
    await expect.poll(() => deliveries.first().textContent(), { timeout: 30_000 }).toContain("succeeded");
    await capture(page, "settings-webhooks");
    // Redelivered: the same delivery (same webhook-id) goes out again, a second attempt.
    await deliveries.first().getByRole("button", { name: "Redeliver" }).click();
    await expect
      .poll(
        async () => {
          await page.getByRole("button", { name: "Refresh deliveries" }).click();
          return deliveries.first().textContent();
        },
        { timeout: 30_000 },
      )
      .toMatch(/succeeded.*2 attempts/);
    await context.close();
  });
});
