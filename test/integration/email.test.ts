import { env } from "cloudflare:test";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { createOutboxSender, readOutbox } from "../../src/integrations/email/outbox.js";
import { createSesSender } from "../../src/integrations/email/ses.js";
import { createRedis } from "../../src/integrations/redis.js";
import { createLogger } from "../../src/lib/log.js";

const redis = createRedis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
const log = createLogger({ level: "error" });
const mail = (to: string, subject = "Hello") => ({ to, subject, text: "Body text", kind: "test" });

describe("the development outbox", () => {
  it("keeps mail per recipient, newest first, lower-cased, at most 50", async () => {
    const sender = createOutboxSender({ redis, log, environment: "test" });
    const to = `Someone-${crypto.randomUUID().slice(0, 8)}@Example.com`;
    for (let i = 0; i < 52; i++) await sender.send(mail(to, `mail ${i}`));
    const kept = await readOutbox({ redis, to: to.toLowerCase() });
    expect(kept).toHaveLength(50);
    expect(kept[0]?.subject).toBe("mail 51");
    expect(kept.at(-1)?.subject).toBe("mail 2");
  });
});

describe("Amazon SES through the official SDK, against a server speaking its protocol", () => {
  const fake = () => inject("fakeSesUrl");
  const sender = () =>
    createSesSender({
      region: "eu-west-1",
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "secret-key-never-shown",
      from: "APE <no-reply@ape.test>",
      endpoint: fake(),
    });
  // A scripted failure the SDK did not use up must not leak into the next test.
  afterEach(async () => {
    await fetch(`${fake()}/__fake/reset`, { method: "POST" });
  });
  const script = (next: Record<string, unknown>) =>
    fetch(`${fake()}/__fake/next`, { method: "POST", body: JSON.stringify(next) });
  type SentMail = {
    FromEmailAddress: string;
    Destination: { ToAddresses: string[] };
    Content: { Simple: { Subject: { Data: string }; Body: { Text: { Data: string } } } };
  };
  const sentTo = async (to: string) =>
    ((await (await fetch(`${fake()}/__fake/sent`)).json()) as SentMail[]).filter((m) =>
      m.Destination.ToAddresses.includes(to),
    );

  it("sends a signed request SES accepts, with sender, recipient, subject and text", async () => {
    const to = `ses-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const { messageId } = await sender().send(mail(to, "Reset your password"));
    expect(messageId).toMatch(/^fake-/);
    const [received] = await sentTo(to);
    expect(received?.FromEmailAddress).toBe("APE <no-reply@ape.test>");
    expect(received?.Content.Simple.Subject.Data).toBe("Reset your password");
    expect(received?.Content.Simple.Body.Text.Data).toBe("Body text");
  });

  it("names SES's error code when it rejects the mail, and never the secret key", async () => {
    await script({ status: 400, type: "MessageRejected" });
    const error = await sender()
      .send(mail("rejected@example.com"))
      .catch((e: Error) => e);
    expect(String(error)).toContain("MessageRejected");
    expect(String(error)).not.toContain("secret-key-never-shown");
  });

  it("retries a throttled send and then succeeds", async () => {
    const to = `throttled-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await script({ status: 429, type: "TooManyRequestsException" });
    await expect(sender().send(mail(to))).resolves.toMatchObject({ messageId: expect.stringMatching(/^fake-/) });
    expect(await sentTo(to)).toHaveLength(1);
  });

  it("fails, rather than hangs, when the connection drops every time", async () => {
    await script({ close: true, times: 3 });
    await expect(sender().send(mail("dropped@example.com"))).rejects.toThrow(
      /SES refused the mail: .*Network connection lost/,
    );
  });
});

describe("password reset mail in production configuration", () => {
  it("goes through SES when EMAIL_PROVIDER=ses, and a failing SES changes nothing in the answer", async () => {
    const { createHarness } = await import("../helpers/harness.js");
    const h = await createHarness({
      EMAIL_PROVIDER: "ses",
      EMAIL_FROM: "APE <no-reply@ape.test>",
      SES_ENDPOINT: inject("fakeSesUrl"),
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret-key-never-shown",
    });
    const user = await h.signUp();
    const res = await h.request("/api/v1/auth/forgot-password", h.json("POST", { email: user.email }));
    expect(res.status).toBe(202);
    const sent = (await (await fetch(`${inject("fakeSesUrl")}/__fake/sent`)).json()) as {
      Destination: { ToAddresses: string[] };
      Content: { Simple: { Body: { Text: { Data: string } } } };
    }[];
    const mine = sent.filter((m) => m.Destination.ToAddresses.includes(user.email));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.Content.Simple.Body.Text.Data).toMatch(/reset-password: \S{43}/);
    expect(await readOutbox({ redis, to: user.email })).toEqual([]);

    // SES down: the known email still answers exactly like an unknown one.
    await fetch(`${inject("fakeSesUrl")}/__fake/next`, {
      method: "POST",
      body: JSON.stringify({ status: 500, type: "InternalFailure", times: 5 }),
    });
    const known = await h.request("/api/v1/auth/forgot-password", h.json("POST", { email: user.email }));
    const unknown = await h.request(
      "/api/v1/auth/forgot-password",
      h.json("POST", { email: `no-one-${crypto.randomUUID().slice(0, 8)}@example.com` }),
    );
    expect(known.status).toBe(202);
    expect(await known.json()).toEqual(await unknown.json());
    await fetch(`${inject("fakeSesUrl")}/__fake/reset`, { method: "POST" });
  });
});

describe("mail settings", () => {
  it("names the missing SES settings at start instead of failing at the first mail", async () => {
    const { createHarness } = await import("../helpers/harness.js");
    const h = await createHarness({ EMAIL_PROVIDER: "ses" });
    const res = await h.request("/api/v1/health/ready");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe("CONFIG_INVALID");
    for (const name of ["EMAIL_FROM", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])
      expect(body.detail).toContain(name);
  });
});

describe("the log of a password reset", () => {
  it("never holds the mail's body or its token, at any level, outside the development terminal", async () => {
    const { createHarness } = await import("../helpers/harness.js");
    const h = await createHarness({ LOG_LEVEL: "debug" });
    const user = await h.signUp();
    const lines: string[] = [];
    const capture = (line: unknown) => void lines.push(String(line));
    const spies = [
      vi.spyOn(console, "log").mockImplementation(capture),
      vi.spyOn(console, "info").mockImplementation(capture),
      vi.spyOn(console, "warn").mockImplementation(capture),
      vi.spyOn(console, "error").mockImplementation(capture),
    ];
    let token: string | undefined;
    try {
      const res = await h.request("/api/v1/auth/forgot-password", h.json("POST", { email: user.email }));
      expect(res.status).toBe(202);
      const [kept] = await readOutbox({ redis, to: user.email });
      token = kept?.text.match(/reset-password: (\S+)/)?.[1];
      const reset = await h.request(
        "/api/v1/auth/reset-password",
        h.json("POST", { token, password: `new-${crypto.randomUUID()}` }),
      );
      expect(reset.status).toBe(204);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(token).toMatch(/^\S{43}$/);
    expect(lines.length).toBeGreaterThan(0);
    const logged = lines.join("\n");
    expect(logged).not.toContain(token);
    expect(logged).not.toContain("Open this link");
  });
});
