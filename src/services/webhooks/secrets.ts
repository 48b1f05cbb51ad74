import { base64url, fromBase64url } from "../../lib/crypto.js";

/**
 * Webhook signing secrets. A secret is `whsec_` and 32 random bytes in base64, the Standard Webhooks form, shown
 * to its owner once. APE must sign with it later, so it is kept encrypted rather than hashed: AES-256-GCM
 * under a key derived (HKDF-SHA-256) from JWT_SECRET, so no extra setting is needed; a new JWT_SECRET makes
 * the stored secrets unreadable, and each endpoint then needs a rotation.
 */

const PREFIX = "whsec_";
const SECRET_BYTES = 32;
const IV_BYTES = 12;
const INFO = new TextEncoder().encode("ape/webhook-secrets/v1");

const keys = new Map<string, Promise<CryptoKey>>();

/** The encryption key for this JWT_SECRET, derived once per isolate. */
const keyFor = (masterSecret: string) => {
  let key = keys.get(masterSecret);
  if (!key) {
    key = (async () => {
      const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(masterSecret), "HKDF", false, [
        "deriveKey",
      ]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: INFO },
        material,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    keys.set(masterSecret, key);
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

/** The secret encrypted for storage: base64url of IV then ciphertext (with GCM's tag). */
export const sealSecret = async (secret: string, masterSecret: string) => {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await keyFor(masterSecret), new TextEncoder().encode(secret)),
  );
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return base64url(out);
};

/** The stored secret, decrypted; throws if it was sealed under another JWT_SECRET or altered. */
export const openSecret = async (sealed: string, masterSecret: string) => {
  const bytes = fromBase64url(sealed);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES) },
    await keyFor(masterSecret),
    bytes.subarray(IV_BYTES),
  );
  return new TextDecoder().decode(plain);
};
