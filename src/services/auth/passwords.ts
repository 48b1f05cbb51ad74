import Argon2, { Argon2Type } from "@phi-ag/argon2";
import { dictionary } from "@zxcvbn-ts/language-common";
import { base64url, constantTimeEqual, fromBase64url } from "../../lib/crypto.js";

/**
 * Password hashing: argon2id at OWASP's parameters (19 MiB, 2 iterations, 1 lane) through a WebAssembly
 * build, stored as the standard PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) so the parameters
 * travel with each hash; a hash made with weaker parameters, or with PBKDF2, is replaced on the next login.
 * Measured in workerd, one hash costs about 30 ms (README, "Password hashing").
 */
export const ARGON2_PARAMETERS = { memoryCost: 19_456, timeCost: 2, parallelism: 1, hashLength: 32 } as const;

/** PBKDF2-SHA256 hashes are still verified (production Workers allow at most 100,000 iterations). */
export const PBKDF2_ITERATIONS = 100_000;
const KEY_BYTES = 32;

// One instance per isolate: instantiating the module costs more than a hash. The hash itself is synchronous,
// so an isolate never runs two at once and its memory stays at one 19 MiB arena.
let argon2: Promise<Argon2> | undefined;
const loadArgon2 = () => {
  argon2 ??= import("./argon2-wasm.js").then(
    async ({ default: wasm }) => new Argon2(await WebAssembly.instantiate(wasm)),
  );
  return argon2;
};

/**
 * `@phi-ag/argon2` passes the string's length in UTF-16 units as the password's byte length, so a non-ASCII
 * password would be cut short (a hash of "日本語" would accept "日ab"). Padding the string with NULs to its
 * UTF-8 length makes the library hash exactly the password's UTF-8 bytes, as every other argon2 does
 * (a test compares against an independent implementation).
 */
const utf8Sized = (password: string) =>
  password + "\0".repeat(new TextEncoder().encode(password).length - password.length);

const derivePbkdf2 = async (password: string, salt: Uint8Array, iterations: number) => {
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
export const hashPassword = async (
  password: string,
  parameters: Partial<Record<keyof typeof ARGON2_PARAMETERS, number>> = {},
) =>
  (await loadArgon2()).hash(utf8Sized(password), { ...ARGON2_PARAMETERS, ...parameters, type: Argon2Type.Argon2id })
    .encoded;

/** A PBKDF2 hash in the PHC format APE used to store; kept for verifying old hashes and their tests. */
export const hashPasswordPbkdf2 = async (password: string, iterations = PBKDF2_ITERATIONS) => {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return `$pbkdf2-sha256$i=${iterations}$${base64url(salt)}$${base64url(await derivePbkdf2(password, salt, iterations))}`;
};

const ARGON2_PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

/**
 * Checks a password against a stored hash; `needsRehash` says it was made with weaker parameters than today's.
 * @example
 * const { ok, needsRehash } = await verifyPassword(input, user.passwordHash);
 */
export const verifyPassword = async (password: string, stored: string) => {
  const argon = ARGON2_PHC.exec(stored);
  if (argon) {
    const ok = (await loadArgon2()).tryVerify(stored, utf8Sized(password), Argon2Type.Argon2id).success;
    const [m, t, p] = [Number(argon[1]), Number(argon[2]), Number(argon[3])];
    const weaker =
      m < ARGON2_PARAMETERS.memoryCost || t < ARGON2_PARAMETERS.timeCost || p < ARGON2_PARAMETERS.parallelism;
    return { ok, needsRehash: ok && weaker };
  }
  const pbkdf2 = /^\$pbkdf2-sha256\$i=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(stored);
  if (!pbkdf2) return { ok: false, needsRehash: false };
  const expected = fromBase64url(pbkdf2[3] ?? "");
  const actual = await derivePbkdf2(password, fromBase64url(pbkdf2[2] ?? ""), Number(pbkdf2[1]));
  const ok = constantTimeEqual(actual, expected);
  return { ok, needsRehash: ok };
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
