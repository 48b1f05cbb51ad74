/**
 * Prefixed, time-sortable ids: `usr_01JD3M6Q8X4R7T2B9C5N0K1H3F`. After the prefix come 26 characters of
 * Crockford base32 in ULID layout: a 48-bit millisecond timestamp (10 chars) then 80 random bits (16 chars).
 * Ids made in a later millisecond sort after earlier ones as plain strings, so a cursor can be the id itself.
 * Uses only Web Crypto, so it runs in Workers, browsers and Node alike.
 */

/** Every id prefix APE hands out, one per kind of record. */
export const idPrefixes = [
  "usr",
  "key",
  "conv",
  "msg",
  "res",
  "ext",
  "aud",
  "use",
  "ses",
  "rtk",
  "prt",
  "trn",
  "doc",
  "whk",
  "evt",
  "whd",
] as const;

/** The prefix of one kind of record's id. */
export type IdPrefix = (typeof idPrefixes)[number];

/** An id of the kind named by its prefix, as `newId` makes it. */
export type PrefixedId<P extends IdPrefix = IdPrefix> = `${P}_${string}`;

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS = 10;
const RANDOM_BYTES = 10; // 80 bits, 16 characters
const MAX_TIME = 2 ** 48 - 1;
// The first time character carries only 3 bits of the 48 (10 chars hold 50), so it is at most 7.
const BODY = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

const encodeTime = (ms: number): string => {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME) throw new RangeError(`time ${ms} does not fit in 48 bits`);
  let out = "";
  let rest = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
};

const encodeRandom = (bytes: Uint8Array): string => {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET.charAt((buffer >> bits) & 31);
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
};

/**
 * A fresh id for a record of the given kind.
 * @example
 * newId("conv"); // "conv_01JD3M6Q8X4R7T2B9C5N0K1H3F"
 */
export const newId = <P extends IdPrefix>(prefix: P, now: number = Date.now()): PrefixedId<P> => {
  const random = crypto.getRandomValues(new Uint8Array(RANDOM_BYTES));
  return `${prefix}_${encodeTime(now)}${encodeRandom(random)}`;
};

/**
 * Whether `value` is a well-formed id of the given kind (prefix, underscore, 26 Crockford base32 characters
 * in upper case). It says nothing about whether such a record exists.
 * @example
 * if (!isId("conv", params.id)) throw new ApiError("NOT_FOUND", `No conversation ${params.id}`);
 */
export const isId = <P extends IdPrefix>(prefix: P, value: unknown): value is PrefixedId<P> =>
  typeof value === "string" && value.startsWith(`${prefix}_`) && BODY.test(value.slice(prefix.length + 1));
