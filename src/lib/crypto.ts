/**
 * Small Web Crypto helpers: random tokens, SHA-256, constant-time comparison. Web Crypto only, so they run in
 * Workers, browsers and Node alike.
 */

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `bytes` random bytes as base64url (no padding). 32 bytes = 256 bits. */
export const randomToken = (bytes = 32) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

/**
 * `bytes` random bytes written in base62 (only letters and digits, so a key survives any copy and paste).
 * @example
 * randomBase62(32) // 43 characters
 */
export const randomBase62 = (bytes = 32) => {
  let value = 0n;
  for (const byte of crypto.getRandomValues(new Uint8Array(bytes))) value = (value << 8n) | BigInt(byte);
  const length = Math.ceil((bytes * 8) / Math.log2(62));
  let out = "";
  for (let i = 0; i < length; i++) {
    out = BASE62.charAt(Number(value % 62n)) + out;
    value /= 62n;
  }
  return out;
};

export const base64url = (data: Uint8Array) =>
  btoa(String.fromCharCode(...data))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

export const fromBase64url = (text: string) =>
  Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));

/** SHA-256 of a string (its UTF-8) or of bytes, as lower-case hex: how APE stores tokens and keys it must look up but never read back. */
export const sha256Hex = async (data: string | Uint8Array) => {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
};

/** Compares two byte arrays in time that depends only on their length. */
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array) => {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
};

/**
 * A short, stable, non-secret tag for a string (FNV-1a, base 36), for Redis key names that must tell apart
 * endpoints or databases without spelling out their URLs. Not for anything secret.
 */
export const shortTag = (text: string) => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(36);
};
