import type { Env } from "../../env.js";
import { base64url, fromBase64url } from "../../lib/crypto.js";

/**
 * Webhook signing secrets. A secret is `whsec_` and 32 random bytes in base64, the Standard Webhooks form, shown
 * to its owner once. APE must sign with it later, so it is kept encrypted rather than hashed: AES-256-GCM
 * under a key derived (HKDF-SHA-256) from `WEBHOOK_SECRETS_KEY`, a setting of its own, so rotating
 * `JWT_SECRET` after a leak leaves every endpoint readable. Sealed values say which key sealed them: `k1.…`
 * under WEBHOOK_SECRETS_KEY; a value without a prefix was sealed, before that setting existed, under a key
 * derived from JWT_SECRET, and stays readable with it until it is sealed again ({@link needsResealing}).
 */

const PREFIX = "whsec_";
const SECRET_BYTES = 32;
const IV_BYTES = 12;
const CURRENT = "k1.";
const INFO = { current: "ape/webhook-secrets/v2", legacy: "ape/webhook-secrets/v1" } as const;

/** The keys secrets are sealed with: WEBHOOK_SECRETS_KEY, and JWT_SECRET for what was sealed before it. */
export type SecretKeys = { current: string | undefined; legacy: string };

/** The secret keys of an environment. */
export const secretKeysOf = (env: Pick<Env, "WEBHOOK_SECRETS_KEY" | "JWT_SECRET">): SecretKeys => ({
  current: env.WEBHOOK_SECRETS_KEY,
  legacy: env.JWT_SECRET,
});

// Lives as long as the isolate: each master secret's key is derived once.
const keys = new Map<string, Promise<CryptoKey>>();

const keyFor = (masterSecret: string, info: string) => {
  const id = `${info}\u0000${masterSecret}`;
  let key = keys.get(id);
  if (!key) {
    key = (async () => {
      const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(masterSecret), "HKDF", false, [
        "deriveKey",
      ]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new TextEncoder().encode(info) },
        material,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    keys.set(id, key);
  }
  return key;
};

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/**
 * A fresh signing secret.
 * @example
 * newSigningSecret() // "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw…"
 */
export const newSigningSecret = () => `${PREFIX}${toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))}`;

/**
 * The secret encrypted for storage: `k1.` and base64url of IV then ciphertext (with GCM's tag), under
 * WEBHOOK_SECRETS_KEY; without that setting (development), the unprefixed form under JWT_SECRET.
 * @example
 * const sealed = await sealSecret(secret, secretKeysOf(ctx.env));
 */
export const sealSecret = async (secret: string, keys: SecretKeys) => {
  const [masterSecret, info, prefix] = keys.current
    ? [keys.current, INFO.current, CURRENT]
    : [keys.legacy, INFO.legacy, ""];
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      await keyFor(masterSecret, info),
      new TextEncoder().encode(secret),
    ),
  );
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return `${prefix}${base64url(out)}`;
};

/** Whether a stored secret was sealed under JWT_SECRET while WEBHOOK_SECRETS_KEY is set: seal it again. */
export const needsResealing = (sealed: string, keys: SecretKeys) =>
  Boolean(keys.current) && !sealed.startsWith(CURRENT);

/**
 * The stored secret, decrypted; throws if it was sealed under another key or altered.
 * @example
 * const secret = await openSecret(endpoint.secretCiphertext, secretKeysOf(ctx.env));
 */
export const openSecret = async (sealed: string, keys: SecretKeys) => {
  const current = sealed.startsWith(CURRENT);
  if (current && !keys.current) throw new Error("the secret was sealed under WEBHOOK_SECRETS_KEY, which is not set");
  const bytes = fromBase64url(current ? sealed.slice(CURRENT.length) : sealed);
  const key = current ? await keyFor(keys.current as string, INFO.current) : await keyFor(keys.legacy, INFO.legacy);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES) },
    key,
    bytes.subarray(IV_BYTES),
  );
  return new TextDecoder().decode(plain);
};
