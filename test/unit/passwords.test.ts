import { argon2id } from "@noble/hashes/argon2.js";
import { describe, expect, it } from "vitest";
import {
  hashPassword,
  hashPasswordPbkdf2,
  isCommonPassword,
  PBKDF2_ITERATIONS,
  verifyPassword,
} from "../../src/services/auth/passwords.js";

describe("password hashing", () => {
  it("hashes with argon2id at OWASP's parameters, in the PHC format", async () => {
    expect(await hashPassword("pw")).toMatch(
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
  });

  it("verifies the right password only, with a fresh salt each time", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse", a)).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword("correct horsE", a)).ok).toBe(false);
    expect((await verifyPassword("correct horse", "not a hash")).ok).toBe(false);
  });

  it("hashes the UTF-8 bytes of non-ASCII passwords, exactly as an independent argon2id does", async () => {
    for (const password of ["日本語", "pässwörd", "🔑🔑🔑🔑", "plain ascii"]) {
      const stored = await hashPassword(password);
      const [, , , params, salt, hash] = stored.split("$");
      expect(params).toBe("m=19456,t=2,p=1");
      const fromB64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
      const reference = argon2id(new TextEncoder().encode(password), fromB64(salt ?? ""), {
        t: 2,
        m: 19_456,
        p: 1,
        dkLen: 32,
      });
      expect(btoa(String.fromCharCode(...reference)).replace(/=+$/, "")).toBe(hash);
    }
    // The library's own bug would have let a prefix with the same UTF-16 length pass.
    const stored = await hashPassword("日本語");
    expect((await verifyPassword("日ab", stored)).ok).toBe(false);
    expect((await verifyPassword("日本語", stored)).ok).toBe(true);
  });

  it("asks for a rehash when a stored hash has weaker parameters than today's", async () => {
    const weak = await hashPassword("pw", { memoryCost: 4096, timeCost: 1 });
    expect(await verifyPassword("pw", weak)).toEqual({ ok: true, needsRehash: true });
    expect((await verifyPassword("nope", weak)).needsRehash).toBe(false);
  });

  it("still verifies PBKDF2 hashes, pinned at the 100,000 iterations production Workers allow, and moves them on", async () => {
    // Local workerd accepts more iterations; production throws above 100,000, so this pin keeps a raise from shipping.
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    const old = await hashPasswordPbkdf2("pw");
    expect(old).toMatch(/^\$pbkdf2-sha256\$i=100000\$/);
    expect(await verifyPassword("pw", old)).toEqual({ ok: true, needsRehash: true });
    expect((await verifyPassword("pW", old)).ok).toBe(false);
  });

  it("knows the most common passwords", () => {
    expect(isCommonPassword("password1")).toBe(true);
    expect(isCommonPassword("Qwerty123")).toBe(true);
    expect(isCommonPassword("a long and unusual passphrase 42")).toBe(false);
  });
});
