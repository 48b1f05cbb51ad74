import { describe, expect, it } from "vitest";
import {
  hashPassword,
  isCommonPassword,
  PBKDF2_ITERATIONS,
  verifyPassword,
} from "../../src/services/auth/passwords.js";

describe("password hashing", () => {
  it("uses PBKDF2-SHA256 at 100,000 iterations, the most production Workers allow", async () => {
    // Local workerd accepts more, production throws above 100,000: this pin keeps a raise from shipping.
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    expect(await hashPassword("pw")).toMatch(/^\$pbkdf2-sha256\$i=100000\$[\w-]{22}\$[\w-]{43}$/);
  });

  it("verifies the right password only, with a fresh salt each time", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    expect(a).not.toBe(b);
    expect((await verifyPassword("correct horse", a)).ok).toBe(true);
    expect((await verifyPassword("correct horsE", a)).ok).toBe(false);
    expect((await verifyPassword("correct horse", "not a hash")).ok).toBe(false);
  });

  it("asks for a rehash when a stored hash has fewer iterations than today's", async () => {
    const old = await hashPassword("pw", 10_000);
    expect(await verifyPassword("pw", old)).toEqual({ ok: true, needsRehash: true });
    expect((await verifyPassword("pw", await hashPassword("pw"))).needsRehash).toBe(false);
  });

  it("knows the most common passwords", () => {
    expect(isCommonPassword("password1")).toBe(true);
    expect(isCommonPassword("Qwerty123")).toBe(true);
    expect(isCommonPassword("a long and unusual passphrase 42")).toBe(false);
  });
});
