import { dictionary } from "@zxcvbn-ts/language-common";
import { base64url, constantTimeEqual, fromBase64url } from "../../lib/crypto.js";

/**
 * Password hashing: PBKDF2-HMAC-SHA256 through Web Crypto, 100,000 iterations, 16-byte salt, 32-byte key,
 * stored as a PHC string (`$pbkdf2-sha256$i=100000$<salt>$<hash>`) so the parameters travel with each hash and
 * a raised count rehashes on the next login. Why not argon2id: see the README's "Password hashing" section.
 * 100,000 is the most production Workers allow (local workerd accepts more; production throws above it).
 */
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = "$pbkdf2-sha256$";

const derive = async (password: string, salt: Uint8Array, iterations: number) => {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
};

/**
 * Hashes a password for storage.
 * @example
 * const stored = await hashPassword("correct horse battery staple");
 */
export const hashPassword = async (password: string, iterations = PBKDF2_ITERATIONS) => {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations);
  return `${PREFIX}i=${iterations}$${base64url(salt)}$${base64url(hash)}`;
};

/**
 * Checks a password against a stored hash; `needsRehash` says the stored parameters are below today's.
 * @example
 * const { ok, needsRehash } = await verifyPassword(input, user.passwordHash);
 */
export const verifyPassword = async (password: string, stored: string) => {
  const match = /^\$pbkdf2-sha256\$i=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(stored);
  if (!match) return { ok: false, needsRehash: false };
  const iterations = Number(match[1]);
  const expected = fromBase64url(match[3] ?? "");
  const actual = await derive(password, fromBase64url(match[2] ?? ""), iterations);
  return { ok: constantTimeEqual(actual, expected), needsRehash: iterations < PBKDF2_ITERATIONS };
};

/**
 * A hash of no real password, verified when an email is unknown so a failed login costs the same time
 * whether or not the account exists. Made once per isolate.
 */
let decoy: Promise<string> | undefined;
export const decoyHash = () => {
  decoy ??= hashPassword(crypto.randomUUID());
  return decoy;
};

// Built on first use and kept for the isolate's life: ~49,000 passwords seen most in breaches (zxcvbn-ts).
let common: Set<string> | undefined;

/** Whether a password is among the most common ones (NIST 800-63B asks services to refuse those). */
export const isCommonPassword = (password: string) => {
  common ??= new Set(dictionary["passwords-common"]);
  return common.has(password.toLowerCase());
};
