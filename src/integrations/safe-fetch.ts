import { z } from "zod";
import type { Env } from "../env.js";

/**
 * Why a safe fetch refused or failed. `retryable` says whether the same URL may succeed later (a timeout, a
 * network error, a resolver that failed); a refusal never is. The message names the URL's host and the reason,
 * never its path, query or credentials (a user's URL may carry a token in any of them).
 * @example
 * try {
 *   await safeFetch.fetch(userUrl);
 * } catch (error) {
 *   if (error instanceof SafeFetchError && error.code === "ADDRESS_NOT_ALLOWED") return { error: error.message, retry: false };
 *   throw error;
 * }
 */
export type SafeFetchErrorCode =
  | "INVALID_URL"
  | "SCHEME_NOT_ALLOWED"
  | "ADDRESS_NOT_ALLOWED"
  | "DNS_FAILED"
  | "TOO_MANY_REDIRECTS"
  | "TOO_LARGE"
  | "TIMEOUT"
  | "CONTENT_TYPE_NOT_ALLOWED"
  | "NETWORK";

/**
 * A refused or failed safe fetch; see {@link SafeFetchErrorCode}.
 * @example
 * const failure = new SafeFetchError("TIMEOUT", "example.com gave no full answer in 15000 ms", { retryable: true });
 */
export class SafeFetchError extends Error {
  readonly code: SafeFetchErrorCode;
  readonly retryable: boolean;

  constructor(code: SafeFetchErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "SafeFetchError";
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * What a safe fetch may send and accept. Bodies are the kinds that can be sent again, since a 307 or 308
 * redirect repeats the request (a stream cannot be replayed).
 * @example
 * const init: SafeFetchInit = { method: "POST", body: JSON.stringify(event), maxRedirects: 0, allowContentTypes: null };
 */
export type SafeFetchInit = {
  method?: string;
  headers?: HeadersInit;
  body?: string | Uint8Array | ArrayBuffer | URLSearchParams | null;
  /** Redirects followed, each checked as the first URL was (default 5). 0: a 3xx is returned as it is. */
  maxRedirects?: number;
  /** The largest body read (default 10 MiB); a larger one fails with TOO_LARGE, and is not read further. */
  maxBytes?: number;
  /** Keep the first `maxBytes` of a larger body and stop reading, instead of failing (a webhook's answer). */
  truncate?: boolean;
  /** The whole request, redirects and body included (default 15 s). */
  timeoutMs?: number;
  /** Media types accepted (`text/*` works too); null accepts any. Defaults to {@link DEFAULT_CONTENT_TYPES}. */
  allowContentTypes?: readonly string[] | null;
  signal?: AbortSignal;
};

/**
 * A fully read answer. `url` is the last URL fetched, `redirects` the URLs that answered with a redirect on
 * the way there, in order; `text()` decodes `body` by the charset the Content-Type names (UTF-8 otherwise).
 * @example
 * const page = await safeFetch.fetch("https://example.com/a");
 * page.redirects; // ["https://example.com/a"] when /a redirected to page.url
 */
export type SafeResponse = {
  url: string;
  status: number;
  headers: Headers;
  body: Uint8Array;
  text(): string;
  redirects: string[];
};

/**
 * A URL that passed the checks: its normalised form (`http://0x7f.1/` is `http://127.0.0.1/`), its host as
 * WHATWG URL spells it (IPv6 in brackets), its port, and every address the host stands for, all of them
 * public; `allowListed` when FETCH_ALLOW_HOSTS let it through unchecked (then `addresses` is empty).
 * @example
 * const checked: CheckedUrl = { url: "https://example.com/", host: "example.com", port: 443, addresses: ["93.184.215.14"], allowListed: false };
 */
export type CheckedUrl = { url: string; host: string; port: number; addresses: string[]; allowListed: boolean };

/**
 * Fetches URLs a user gave, refusing what could reach inside (see {@link createSafeFetch}).
 * @example
 * const { body } = await safeFetch.fetch("https://example.com/report.pdf", { maxBytes: 5 * 1024 * 1024 });
 */
export type SafeFetch = {
  fetch(url: string, init?: SafeFetchInit): Promise<SafeResponse>;
  check(url: string, options?: { signal?: AbortSignal }): Promise<CheckedUrl>;
};

/** The types fetched for extraction and research when the caller names none. */
export const DEFAULT_CONTENT_TYPES: readonly string[] = [
  "text/html",
  "text/plain",
  "text/csv",
  "text/markdown",
  "application/json",
  "application/xml",
  "application/xhtml+xml",
  "application/pdf",
];

const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;
// A CNAME chain the resolver did not finish is chased this many more queries deep before giving up.
const MAX_CNAME_QUERIES = 4;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Fetch's own rule (WHATWG fetch, "HTTP-redirect fetch"): these go when a redirect turns the request into a GET.
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language", "content-location"];
// And these when a redirect leaves the origin, so a hop elsewhere never receives the first site's secrets.
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

// ---------------------------------------------------------------------------------------------------------
// Addresses. A small parser rather than a library: its input is already canonical (the host WHATWG URL has
// normalised, and resolver answers), so strict dotted-decimal IPv4 and RFC 4291 IPv6 text is all it reads;
// anything else is refused rather than guessed at.

type Address = { version: 4; value: number; text: string } | { version: 6; value: bigint; text: string };

/** Strict dotted-decimal IPv4 (no octal, hex or short forms: URL has already turned those into this). */
const parseIpv4 = (text: string): number | null => {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
};

/**
 * IPv6 text (RFC 4291 §2.2: eight groups of 1 to 4 hex digits, one `::` standing for one or more zero groups,
 * and optionally a dotted IPv4 address as the last 32 bits) as a 128-bit number. Zone ids (`%eth0`) are not
 * read: URL refuses them in a host, and a resolver never answers one.
 */
const parseIpv6 = (text: string): bigint | null => {
  if (!/^[0-9a-f:.]+$/i.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string, endsAddress: boolean): number[] | null => {
    if (part === "") return [];
    const pieces = part.split(":");
    const groups: number[] = [];
    for (const [index, piece] of pieces.entries()) {
      if (endsAddress && index === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (v4 === null) return null;
        groups.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        groups.push(Number.parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "", true) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<number>(missing).fill(0), ...tail];
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
};

const cidr4 = (text: string, why: string) => {
  const [base = "", bits = ""] = text.split("/");
  return { base: parseIpv4(base) ?? 0, bits: Number(bits), why: `${why} (${text})` };
};
const cidr6 = (text: string, why: string) => {
  const [base = "", bits = ""] = text.split("/");
  return { base: parseIpv6(base) ?? 0n, bits: BigInt(bits), why: `${why} (${text})` };
};

// IANA's special-purpose registry, less the ranges the internet does route to anyone (none left here).
const REFUSED_V4 = [
  cidr4("0.0.0.0/8", "a 'this network' address"),
  cidr4("10.0.0.0/8", "a private address"),
  cidr4("100.64.0.0/10", "a carrier-grade NAT address"),
  cidr4("127.0.0.0/8", "a loopback address"),
  cidr4("169.254.0.0/16", "a link-local address, where cloud metadata services answer"),
  cidr4("172.16.0.0/12", "a private address"),
  cidr4("192.0.0.0/24", "an IETF protocol address"),
  cidr4("192.0.2.0/24", "a documentation address"),
  cidr4("192.88.99.0/24", "a 6to4 relay address"),
  cidr4("192.168.0.0/16", "a private address"),
  cidr4("198.18.0.0/15", "a benchmarking address"),
  cidr4("198.51.100.0/24", "a documentation address"),
  cidr4("203.0.113.0/24", "a documentation address"),
  cidr4("224.0.0.0/4", "a multicast address"),
  cidr4("255.255.255.255/32", "the broadcast address"),
  cidr4("240.0.0.0/4", "a reserved address"),
];

// Forms that carry an IPv4 address inside: what decides is the address inside.
const EMBEDDING_V6 = [
  { ...cidr6("::ffff:0:0/96", "an IPv4-mapped address"), shift: 0n },
  { ...cidr6("64:ff9b::/96", "a NAT64 address"), shift: 0n },
  // 2002:WWXX:YYZZ::/48 is the 6to4 network of WW.XX.YY.ZZ: the 32 bits after the first 16.
  { ...cidr6("2002::/16", "a 6to4 address"), shift: 80n },
];

const REFUSED_V6 = [
  cidr6("::/128", "the unspecified address"),
  cidr6("::1/128", "the loopback address"),
  // Deprecated IPv4-compatible addresses (RFC 4291 §2.5.5.1): `[::127.0.0.1]` must not pass for public.
  cidr6("::/96", "an IPv4-compatible address"),
  cidr6("::ffff:0:0:0/96", "an IPv4-translated address"),
  cidr6("64:ff9b:1::/48", "a local-use NAT64 address"),
  cidr6("100::/64", "a discard-only address"),
  // Teredo's client address is obfuscated inside; no site a user links is served over Teredo.
  cidr6("2001::/32", "a Teredo address"),
  cidr6("2001:db8::/32", "a documentation address"),
  cidr6("fc00::/7", "a unique-local address"),
  cidr6("fe80::/10", "a link-local address"),
  cidr6("fec0::/10", "a site-local address"),
  cidr6("ff00::/8", "a multicast address"),
];

// Only 2000::/3 is global unicast; outside it (once the embedding forms above are read) nothing is public.
const GLOBAL_UNICAST_V6 = cidr6("2000::/3", "global unicast");

const inV4 = (value: number, range: { base: number; bits: number }) =>
  range.bits === 0 || (value ^ range.base) >>> (32 - range.bits) === 0;
const inV6 = (value: bigint, range: { base: bigint; bits: bigint }) =>
  (value ^ range.base) >> (128n - range.bits) === 0n;

const formatIpv4 = (value: number) => [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");

/** Why an address must not be fetched, or null when it is public. */
const refusalOf = (address: Address): string | null => {
  if (address.version === 4) return REFUSED_V4.find((range) => inV4(address.value, range))?.why ?? null;
  for (const form of EMBEDDING_V6) {
    if (!inV6(address.value, form)) continue;
    const inner = Number((address.value >> form.shift) & 0xffffffffn);
    const why = refusalOf({ version: 4, value: inner, text: formatIpv4(inner) });
    return why ? `${form.why} of ${formatIpv4(inner)}, ${why}` : null;
  }
  const refused = REFUSED_V6.find((range) => inV6(address.value, range));
  if (refused) return refused.why;
  return inV6(address.value, GLOBAL_UNICAST_V6) ? null : "not a global unicast address";
};

/** A URL's host as an IP address, when it is one: dotted IPv4, or IPv6 in brackets. */
const literalOf = (host: string): Address | null => {
  if (host.startsWith("[") && host.endsWith("]")) {
    const value = parseIpv6(host.slice(1, -1));
    return value === null ? null : { version: 6, value, text: host };
  }
  const value = parseIpv4(host);
  return value === null ? null : { version: 4, value, text: host };
};

// ---------------------------------------------------------------------------------------------------------
// Names refused before any lookup: they name machines inside a network (RFC 6761's localhost, RFC 6762's
// .local, RFC 8375's home.arpa, cloud metadata under .internal) or are commonly used that way.
const REFUSED_SUFFIXES = [
  "localhost",
  "local",
  "localdomain",
  "internal",
  "home.arpa",
  "lan",
  "intranet",
  "corp",
  "home",
];

/** Why a host name must not be looked up, or null. `name` is lower-case (URL does that) without a final dot. */
const nameRefusalOf = (name: string): string | null => {
  const suffix = REFUSED_SUFFIXES.find((refused) => name === refused || name.endsWith(`.${refused}`));
  if (suffix) return `names under .${suffix} are internal`;
  // One label (`metadata`, `intranet`, a TLD) names no site on the internet; some resolvers complete it locally.
  if (!name.includes(".")) return "a single-label name is not a public host";
  // WHATWG URL reads a host whose last label is a number as IPv4 (or refuses it), so this cannot come from
  // it; refused in case a URL ever arrives from a parser that did not normalise an address spelling.
  if (/^(\d+|0x[0-9a-f]*)$/i.test(name.split(".").at(-1) ?? "")) return "it looks like an address in an odd spelling";
  return null;
};

// ---------------------------------------------------------------------------------------------------------
// DNS over HTTPS, in the JSON format Cloudflare's and Google's resolvers answer.

const DohAnswer = z.object({
  Status: z.number(),
  Answer: z.array(z.object({ name: z.string(), type: z.number(), data: z.string() })).optional(),
});
type DohAnswer = z.infer<typeof DohAnswer>;

const RECORD_TYPES = { A: 1, AAAA: 28 } as const;
// How long, and how many, DNS answers one safe fetch keeps (see `resolveOnce`): about a job slice's length,
// under a crawl's page bound, so a long-lived instance still sees records change.
const DNS_CACHE_MS = 5 * 60_000;
const DNS_CACHE_ENTRIES = 1_000;
const CNAME = 5;
const canonicalName = (name: string) => name.toLowerCase().replace(/\.$/, "");

const stillPending = (signal: AbortSignal) => {
  // An abort (the request's deadline) is the caller's to classify, as TIMEOUT; everything else is the resolver's.
  if (signal.aborted) throw signal.reason;
};

/**
 * Checks URLs and fetches them, refusing every URL that could reach a private network, the Worker's own
 * loopback or a cloud metadata service: http and https only, no credentials in the URL, and every address the
 * host stands for (the literal one, or each A and AAAA record found through DNS over HTTPS at `resolverUrl`)
 * must be public. Redirects are followed by hand, each hop checked the same way; bodies are read up to
 * `maxBytes` and of the content types allowed only.
 *
 * `allowHosts` (`host:port`, `host` alone meaning port 80) are let through without the address check, for
 * local development and tests. FETCH_ALLOW_HOSTS feeds it, and must be empty in production: it is honoured
 * whatever ENVIRONMENT says.
 *
 * The known limit, DNS rebinding: a Worker's fetch() connects by name (it cannot be pinned to the address
 * checked), so a name whose records change between the check and the connection (a short TTL, a resolver
 * answering differently the second time) could still reach a private address. Checking every redirect hop
 * afresh narrows that window; closing it would need a connection pinned to the checked IP. One safe fetch keeps
 * the DNS answers it got for up to 5 minutes and looks each name up once in that time (make one per job or
 * request, not one per isolate); every hop's addresses are still checked, a remembered answer or not.
 * @example
 * const safeFetch = createSafeFetch({ allowHosts: [], resolverUrl: "https://cloudflare-dns.com/dns-query" });
 * const page = await safeFetch.fetch("https://example.com/", { timeoutMs: 10_000 });
 * console.log(page.status, page.text().slice(0, 100));
 */
export const createSafeFetch = (options: {
  allowHosts: string[];
  resolverUrl: string;
  fetcher?: typeof fetch;
}): SafeFetch => {
  // Called through a wrapper: workerd refuses a fetch called with a `this` that is not the global scope.
  const fetcher: typeof fetch = options.fetcher ?? ((input, init) => fetch(input, init));
  const hostKey = (host: string, port: number) => `${host.replace(/\.$/, "")}:${port}`;
  const allowed = new Set(
    options.allowHosts.map((entry) => {
      // Normalised as URL normalises hosts, so `LOCALHOST:8799` or `0x7f.1:8799` match what URLs spell.
      const url = /^[^/?#@\s]+$/.test(entry) ? URL.parse(`http://${entry}`) : null;
      if (!url) throw new Error(`FETCH_ALLOW_HOSTS entry "${entry}" is not host:port`);
      return hostKey(url.hostname, url.port ? Number(url.port) : 80);
    }),
  );

  const query = async (name: string, type: keyof typeof RECORD_TYPES, signal: AbortSignal): Promise<DohAnswer> => {
    const url = new URL(options.resolverUrl);
    url.searchParams.set("name", name);
    url.searchParams.set("type", type);
    let response: Response;
    try {
      response = await fetcher(url.href, { headers: { accept: "application/dns-json" }, signal });
    } catch (error) {
      stillPending(signal);
      throw new SafeFetchError("DNS_FAILED", `The DNS resolver could not be reached to look up ${name}`, {
        retryable: true,
        cause: error,
      });
    }
    if (!response.ok) response.body?.cancel().catch(() => undefined);
    const parsed = DohAnswer.safeParse(response.ok ? await response.json().catch(() => null) : null);
    if (!parsed.success) {
      stillPending(signal);
      throw new SafeFetchError(
        "DNS_FAILED",
        `The DNS resolver gave no usable answer for ${name} (${response.status})`,
        {
          retryable: response.ok || response.status === 429 || response.status >= 500,
        },
      );
    }
    return parsed.data;
  };

  /** The addresses of one type, chasing a CNAME chain the resolver left unfinished; null when the name is unknown. */
  const lookup = async (
    name: string,
    type: keyof typeof RECORD_TYPES,
    signal: AbortSignal,
    depth = 0,
  ): Promise<string[] | null> => {
    const { Status, Answer = [] } = await query(name, type, signal);
    if (Status === 3) return null;
    if (Status !== 0) {
      // SERVFAIL (2) and REFUSED (5) are the resolver's trouble; the name may resolve later.
      throw new SafeFetchError("DNS_FAILED", `The DNS lookup of ${name} failed (status ${Status})`, {
        retryable: true,
      });
    }
    // Every address record in the answer, whichever name of the chain it hangs off: each one is where a
    // connection could go, so each one is checked (failing closed on an odd answer).
    const addresses = Answer.filter((record) => record.type === RECORD_TYPES[type]).map((record) => record.data);
    if (addresses.length > 0) return addresses;
    let last = canonicalName(name);
    const seen = new Set([last]);
    for (;;) {
      const next = Answer.find((record) => record.type === CNAME && canonicalName(record.name) === last);
      if (!next) break;
      last = canonicalName(next.data);
      if (seen.has(last)) throw new SafeFetchError("DNS_FAILED", `The DNS records of ${name} loop`);
      seen.add(last);
    }
    if (last === canonicalName(name)) return [];
    if (depth >= MAX_CNAME_QUERIES) throw new SafeFetchError("DNS_FAILED", `The CNAME chain of ${name} is too long`);
    return lookup(last, type, signal, depth + 1);
  };

  const resolve = async (name: string, signal: AbortSignal): Promise<Address[]> => {
    // Both families, since fetch() may connect over either; a failed query fails the whole lookup (an AAAA
    // record nobody saw could be the private one).
    const [v4, v6] = await Promise.all([lookup(name, "A", signal), lookup(name, "AAAA", signal)]);
    if (v4 === null && v6 === null) throw new SafeFetchError("DNS_FAILED", `${name} does not exist (NXDOMAIN)`);
    const addresses = [
      ...(v4 ?? []).map((text) => ({ text, value: parseIpv4(text), version: 4 as const })),
      ...(v6 ?? []).map((text) => ({ text, value: parseIpv6(text), version: 6 as const })),
    ];
    if (addresses.length === 0) throw new SafeFetchError("DNS_FAILED", `${name} has no address`);
    return addresses.map((address) => {
      if (address.value === null) {
        throw new SafeFetchError(
          "DNS_FAILED",
          `The DNS resolver answered ${name} with "${address.text}", not an address`,
        );
      }
      return address as Address;
    });
  };

  // The answers this safe fetch has had, by name, for its life (one job's crawl, one request): a crawl of many
  // pages of one site asks the resolver once, not twice a page. Only a full answer is kept, and only for the
  // very name it answers (a redirect to another host is looked up and checked on its own); a failure is not.
  const answers = new Map<string, { addresses: Address[]; until: number }>();
  const resolveOnce = async (name: string, signal: AbortSignal): Promise<Address[]> => {
    const key = canonicalName(name);
    const known = answers.get(key);
    if (known && known.until > Date.now()) return known.addresses;
    const addresses = await resolve(name, signal);
    if (answers.size >= DNS_CACHE_ENTRIES) answers.delete(answers.keys().next().value as string);
    answers.set(key, { addresses, until: Date.now() + DNS_CACHE_MS });
    return addresses;
  };

  const checkUrl = async (input: string, signal: AbortSignal): Promise<CheckedUrl> => {
    const url = URL.parse(input);
    if (!url) throw new SafeFetchError("INVALID_URL", "The URL is not a valid absolute URL");
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new SafeFetchError("SCHEME_NOT_ALLOWED", `${url.protocol} URLs are not fetched, only http: and https:`);
    }
    const host = url.hostname;
    if (url.username || url.password) {
      throw new SafeFetchError("INVALID_URL", `The URL of ${host} carries credentials (user:password@), refused`);
    }
    const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    const checked = { url: url.href, host, port };
    if (allowed.has(hostKey(host, port))) return { ...checked, addresses: [], allowListed: true };

    const literal = literalOf(host);
    if (literal) {
      const why = refusalOf(literal);
      if (why) throw new SafeFetchError("ADDRESS_NOT_ALLOWED", `${host} is ${why}`);
      return { ...checked, addresses: [literal.text], allowListed: false };
    }
    if (host.startsWith("[")) throw new SafeFetchError("INVALID_URL", `${host} is not an IPv6 address`);
    const name = host.replace(/\.$/, "");
    const why = nameRefusalOf(name);
    if (why) throw new SafeFetchError("ADDRESS_NOT_ALLOWED", `${host} is refused: ${why}`);
    const addresses = await resolveOnce(name, signal);
    // Checked on every hop, the answer fresh or remembered: a cached answer saves the lookup, never the check.
    for (const address of addresses) {
      const refusal = refusalOf(address);
      if (refusal) throw new SafeFetchError("ADDRESS_NOT_ALLOWED", `${host} resolves to ${address.text}, ${refusal}`);
    }
    return { ...checked, addresses: addresses.map((address) => address.text), allowListed: false };
  };

  /** Any failure as a SafeFetchError; a caller's own abort (not a timeout) is handed back as the caller's reason. */
  const classify = (error: unknown, host: string, timeoutMs: number, deadline: AbortSignal, caller?: AbortSignal) => {
    if (error instanceof SafeFetchError) return error;
    const callerTimedOut = caller?.aborted === true && (caller.reason as Error | undefined)?.name === "TimeoutError";
    if (deadline.aborted || callerTimedOut) {
      return new SafeFetchError("TIMEOUT", `${host} gave no full answer within ${timeoutMs} ms`, {
        retryable: true,
        cause: error,
      });
    }
    if (caller?.aborted) return caller.reason;
    // The runtime's message can quote the whole URL; only the host is said, the rest stays in `cause`.
    return new SafeFetchError("NETWORK", `${host} could not be reached`, { retryable: true, cause: error });
  };

  const readBody = async (
    body: ReadableStream<Uint8Array>,
    maxBytes: number,
    host: string,
    signal: AbortSignal,
    truncate: boolean,
  ) => {
    const reader = body.getReader();
    // A read waits for the network: the deadline has to be able to end it even if the runtime does not.
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await Promise.race([reader.read(), aborted]);
        if (done) break;
        if (truncate && total + value.byteLength >= maxBytes) {
          chunks.push(value.subarray(0, maxBytes - total));
          total = maxBytes;
          reader.cancel().catch(() => undefined);
          break;
        }
        total += value.byteLength;
        if (total > maxBytes) {
          throw new SafeFetchError("TOO_LARGE", `${host} answered more than ${maxBytes} bytes; reading stopped`);
        }
        chunks.push(value);
      }
    } catch (error) {
      // Cancelling tells the runtime to drop the connection rather than read the rest of a large body.
      reader.cancel().catch(() => undefined);
      throw error;
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return bytes;
  };

  const mediaTypeOf = (contentType: string | null) => contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  const typeAllowed = (type: string, allow: readonly string[]) =>
    allow.some((entry) => {
      const wanted = entry.toLowerCase();
      return wanted === type || (wanted.endsWith("/*") && type.startsWith(wanted.slice(0, -1)));
    });

  return {
    async check(url, checkOptions = {}) {
      const deadline = AbortSignal.timeout(DEFAULT_TIMEOUT_MS);
      const signal = checkOptions.signal ? AbortSignal.any([checkOptions.signal, deadline]) : deadline;
      try {
        return await checkUrl(url, signal);
      } catch (error) {
        throw classify(error, URL.parse(url)?.hostname || "the URL", DEFAULT_TIMEOUT_MS, deadline, checkOptions.signal);
      }
    },

    async fetch(url, init = {}) {
      const maxRedirects = init.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
      const maxBytes = init.maxBytes ?? DEFAULT_MAX_BYTES;
      const timeoutMs = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const allowTypes = init.allowContentTypes === undefined ? DEFAULT_CONTENT_TYPES : init.allowContentTypes;
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
      const headers = new Headers(init.headers);
      const redirects: string[] = [];
      let method = (init.method ?? "GET").toUpperCase();
      let body = init.body ?? null;
      let current = url;
      let host = URL.parse(url)?.hostname || "the URL";
      try {
        for (;;) {
          const checked = await checkUrl(current, signal);
          host = checked.host;
          const response = await fetcher(checked.url, { method, headers, body, redirect: "manual", signal });
          const location = response.headers.get("location");
          if (maxRedirects > 0 && REDIRECT_STATUSES.has(response.status) && location !== null) {
            response.body?.cancel().catch(() => undefined);
            if (redirects.length >= maxRedirects) {
              throw new SafeFetchError("TOO_MANY_REDIRECTS", `${host} redirected more than ${maxRedirects} times`);
            }
            const next = URL.parse(location, checked.url);
            if (!next) throw new SafeFetchError("INVALID_URL", `${host} redirected to an invalid URL`);
            redirects.push(checked.url);
            // Fetch's rules: a 303 is always followed with GET, and a 301 or 302 turns a POST into one.
            const toGet =
              (response.status === 303 && method !== "HEAD") ||
              ((response.status === 301 || response.status === 302) && method === "POST");
            if (toGet) {
              method = "GET";
              body = null;
              for (const name of BODY_HEADERS) headers.delete(name);
            }
            if (next.origin !== new URL(checked.url).origin) {
              for (const name of CREDENTIAL_HEADERS) headers.delete(name);
            }
            current = next.href;
            continue;
          }

          const contentType = response.headers.get("content-type");
          const declared = response.headers.get("content-length");
          const bodyless =
            response.body === null ||
            method === "HEAD" ||
            declared === "0" ||
            [204, 205, 304].includes(response.status);
          // A redirect handed back as it is (maxRedirects 0) is not content, whatever its type.
          const isRedirect = response.status >= 300 && response.status < 400;
          if (allowTypes !== null && !bodyless && !isRedirect && !typeAllowed(mediaTypeOf(contentType), allowTypes)) {
            response.body?.cancel().catch(() => undefined);
            throw new SafeFetchError(
              "CONTENT_TYPE_NOT_ALLOWED",
              `${host} answered ${mediaTypeOf(contentType) || "with no content type"}, which is not accepted`,
            );
          }
          if (!init.truncate && declared !== null && Number(declared) > maxBytes) {
            response.body?.cancel().catch(() => undefined);
            throw new SafeFetchError("TOO_LARGE", `${host} announced ${declared} bytes, more than ${maxBytes}`);
          }
          const bytes = response.body
            ? await readBody(response.body, maxBytes, host, signal, init.truncate === true)
            : new Uint8Array();
          const charset = /charset="?([\w.:-]+)/i.exec(contentType ?? "")?.[1];
          return {
            url: checked.url,
            status: response.status,
            headers: response.headers,
            body: bytes,
            text: () => {
              try {
                return new TextDecoder(charset ?? "utf-8").decode(bytes);
              } catch {
                // A charset the runtime does not know: UTF-8 reads most of what is labelled wrongly.
                return new TextDecoder().decode(bytes);
              }
            },
            redirects,
          };
        }
      } catch (error) {
        throw classify(error, host, timeoutMs, deadline, init.signal);
      }
    },
  };
};

/**
 * The safe fetch for this environment: FETCH_ALLOW_HOSTS and FETCH_DNS_RESOLVER_URL. FETCH_ALLOW_HOSTS must be
 * empty in production; it is honoured whatever ENVIRONMENT says, and nothing is logged about it.
 * @example
 * const safeFetch = safeFetchFromEnv(c.var.env);
 * const page = await safeFetch.fetch(input.url);
 */
export const safeFetchFromEnv = (env: Pick<Env, "FETCH_ALLOW_HOSTS" | "FETCH_DNS_RESOLVER_URL">): SafeFetch =>
  createSafeFetch({ allowHosts: env.FETCH_ALLOW_HOSTS, resolverUrl: env.FETCH_DNS_RESOLVER_URL });
