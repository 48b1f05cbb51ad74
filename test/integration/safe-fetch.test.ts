import { beforeEach, describe, expect, inject, it } from "vitest";
import {
  createSafeFetch,
  SafeFetchError,
  type SafeFetchErrorCode,
  safeFetchFromEnv,
} from "../../src/integrations/safe-fetch.js";

// The safe fetch inside workerd, against local fakes: test/helpers/fake-sites.mjs plays the websites (its main
// listener is the "public" site, allow-listed as FETCH_ALLOW_HOSTS would; its alt listener is the internal
// target, never allow-listed, whose request log must stay empty), and test/helpers/fake-dns.mjs is the
// DNS-over-HTTPS resolver, so each test decides what its names resolve to. Every test has its own scope of
// both fakes. Hostile URLs aim at the target's port where the address could reach it, so a check that let one
// through would show up in the target's log, and in the list of URLs the watched fetcher was asked for.
const sitesUrl = inject("fakeSitesUrl");
const targetUrl = inject("fakeSitesAltUrl");
const dnsUrl = inject("fakeDnsUrl");
const SITE_HOST = new URL(sitesUrl).host;
const TARGET_PORT = new URL(targetUrl).port;

let scope = crypto.randomUUID();
beforeEach(() => {
  scope = crypto.randomUUID();
});
const site = (path: string) => `${sitesUrl}/s/${scope}${path}`;
const secret = () => `/s/${scope}/admin?token=hunter2`;
const resolverUrl = () => `${dnsUrl}/s/${scope}/dns-query`;

type Received = {
  listener: "main" | "alt";
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
  sent: number;
  left: boolean;
};
const received = async () => (await (await fetch(`${sitesUrl}/s/${scope}/__fake/requests`)).json()) as Received[];
const dnsQueries = async () =>
  (await (await fetch(`${dnsUrl}/s/${scope}/__fake/requests`)).json()) as {
    name: string;
    type: string;
    accept: string;
  }[];
const record = async (name: string, type: "A" | "AAAA" | "CNAME", data: string) => {
  const response = await fetch(`${dnsUrl}/s/${scope}/__fake/records`, {
    method: "POST",
    body: JSON.stringify({ name, type, data }),
  });
  expect(response.status).toBe(204);
};

/** A fetcher that notes every URL asked for (resolver queries aside, which it passes on), and answers some itself. */
const watched = (answer?: (url: string, init?: RequestInit) => Response | undefined) => {
  const fetched: string[] = [];
  const fetcher: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    if (url.startsWith(dnsUrl)) return fetch(input, init);
    fetched.push(url);
    return answer?.(url, init) ?? fetch(input, init);
  };
  return { fetcher, fetched };
};
const safeFetch = (fetcher?: typeof fetch, allowHosts = [SITE_HOST]) =>
  createSafeFetch({ allowHosts, resolverUrl: resolverUrl(), ...(fetcher ? { fetcher } : {}) });

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the fetch to fail");
    },
    (error: unknown) => {
      if (!(error instanceof SafeFetchError)) throw error;
      return error;
    },
  );

/** Refused with `code`, having asked the network for nothing and sent the target not a byte. */
const expectRefused = async (url: string, code: SafeFetchErrorCode) => {
  const { fetcher, fetched } = watched();
  const failure = await failureOf(safeFetch(fetcher).fetch(url, { timeoutMs: 2_000 }));
  expect({ code: failure.code, retryable: failure.retryable }).toEqual({ code, retryable: false });
  // The message says which host and why, never the path's token or a password.
  expect(failure.message).not.toMatch(/hunter2|s3cret/);
  expect(fetched).toEqual([]);
  expect(await received()).toEqual([]);
  return failure;
};

const at = (host: string) => () => `http://${host}:${TARGET_PORT}${secret()}`;
const plain = (url: string) => () => url;

const HOSTILE_ADDRESSES: { what: string; url: () => string; why?: RegExp }[] = [
  { what: "loopback, as 127.0.0.1", url: at("127.0.0.1"), why: /loopback/ },
  { what: "loopback in decimal (2130706433)", url: at("2130706433"), why: /127\.0\.0\.1 is a loopback/ },
  { what: "loopback in octal (017700000001)", url: at("017700000001") },
  { what: "loopback in dotted octal (0177.0.0.1)", url: at("0177.0.0.1") },
  { what: "loopback in hex, short (0x7f.1)", url: at("0x7f.1") },
  { what: "loopback as one hex number (0x7f000001)", url: at("0x7f000001") },
  { what: "loopback, short form (127.1)", url: at("127.1") },
  { what: "loopback elsewhere in 127/8 (127.45.6.7)", url: at("127.45.6.7") },
  { what: "loopback with a final dot (127.0.0.1.)", url: at("127.0.0.1.") },
  { what: "the 'this host' address 0.0.0.0", url: at("0.0.0.0") },
  { what: "0.0.0.0 written as 0", url: at("0") },
  { what: "IPv6 loopback [::1]", url: at("[::1]"), why: /\[::1\] is the loopback address/ },
  { what: "IPv6 loopback written out ([0:0:0:0:0:0:0:1])", url: at("[0:0:0:0:0:0:0:1]") },
  { what: "IPv6 unspecified [::]", url: at("[::]") },
  { what: "IPv4-mapped loopback, dotted ([::ffff:127.0.0.1])", url: at("[::ffff:127.0.0.1]"), why: /IPv4-mapped/ },
  { what: "IPv4-mapped loopback, hex ([::ffff:7f00:1])", url: at("[::ffff:7f00:1]") },
  { what: "IPv4-mapped loopback, written out ([0:0:0:0:0:ffff:7f00:1])", url: at("[0:0:0:0:0:ffff:7f00:1]") },
  { what: "IPv4-compatible loopback ([::127.0.0.1])", url: at("[::127.0.0.1]") },
  { what: "a private 10/8 address", url: plain("http://10.0.0.1/admin"), why: /private/ },
  { what: "a private 172.16/12 address", url: plain("http://172.16.0.1/") },
  { what: "the top of 172.16/12", url: plain("http://172.31.255.254/") },
  { what: "a private 192.168/16 address", url: plain("http://192.168.1.1/") },
  { what: "the metadata service (169.254.169.254)", url: plain("http://169.254.169.254/latest/meta-data/") },
  { what: "the metadata service in decimal (2852039166)", url: plain("http://2852039166/latest/meta-data/") },
  { what: "the metadata service, IPv4-mapped", url: plain("http://[::ffff:169.254.169.254]/") },
  { what: "carrier-grade NAT (100.64.0.1)", url: plain("http://100.64.0.1/"), why: /carrier-grade NAT/ },
  { what: "the top of carrier-grade NAT (100.127.255.254)", url: plain("http://100.127.255.254/") },
  { what: "multicast (224.0.0.251)", url: plain("http://224.0.0.251/"), why: /multicast/ },
  { what: "multicast (239.255.255.250)", url: plain("http://239.255.255.250/") },
  { what: "reserved 240/4", url: plain("http://240.0.0.1/") },
  { what: "broadcast", url: plain("http://255.255.255.255/"), why: /broadcast/ },
  { what: "documentation TEST-NET-1", url: plain("http://192.0.2.10/") },
  { what: "documentation TEST-NET-2", url: plain("http://198.51.100.7/") },
  { what: "documentation TEST-NET-3", url: plain("http://203.0.113.9/") },
  { what: "benchmarking 198.18/15", url: plain("http://198.19.0.1/") },
  { what: "IETF protocol assignments 192.0.0/24", url: plain("http://192.0.0.8/") },
  { what: "the 6to4 relay anycast", url: plain("http://192.88.99.1/") },
  { what: "IPv6 unique-local [fc00::1]", url: plain("http://[fc00::1]/"), why: /unique-local/ },
  { what: "IPv6 unique-local [fd12:3456:789a::1]", url: plain("http://[fd12:3456:789a::1]/") },
  { what: "IPv6 link-local [fe80::1]", url: plain("http://[fe80::1]/"), why: /link-local/ },
  { what: "IPv6 multicast [ff02::1]", url: plain("http://[ff02::1]/") },
  { what: "IPv6 site-local [fec0::1]", url: plain("http://[fec0::1]/") },
  { what: "6to4 of loopback ([2002:7f00:1::1])", url: plain("http://[2002:7f00:1::1]/"), why: /6to4.*127\.0\.0\.1/ },
  { what: "6to4 of a private address ([2002:a00:1::])", url: plain("http://[2002:a00:1::]/") },
  { what: "NAT64 of loopback ([64:ff9b::127.0.0.1])", url: plain("http://[64:ff9b::127.0.0.1]/"), why: /NAT64/ },
  { what: "NAT64 of the metadata service", url: plain("http://[64:ff9b::a9fe:a9fe]/") },
  { what: "Teredo", url: plain("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/"), why: /Teredo/ },
  { what: "IPv6 documentation [2001:db8::1]", url: plain("http://[2001:db8::1]/") },
  { what: "IPv6 discard-only [100::1]", url: plain("http://[100::1]/") },
  { what: "localhost by name", url: at("localhost"), why: /localhost/ },
  { what: "LOCALHOST. with a final dot", url: at("LOCALHOST.") },
  { what: "a name under .localhost", url: at("api.localhost") },
  { what: "the metadata host by name (metadata.google.internal)", url: plain("http://metadata.google.internal/") },
  { what: "the bare name metadata", url: plain("http://metadata/computeMetadata/v1/"), why: /single-label/ },
  { what: "a name under .internal", url: plain("http://db.internal:5432/") },
  { what: "a name under .local (mDNS)", url: plain("http://printer.local/") },
  { what: "a name under home.arpa", url: plain("http://nas.home.arpa/") },
];

describe("a user's link to an address inside is refused before a byte is sent", () => {
  it.each(HOSTILE_ADDRESSES)("refuses $what", async ({ url, why }) => {
    const failure = await expectRefused(url(), "ADDRESS_NOT_ALLOWED");
    if (why) expect(failure.message).toMatch(why);
  });
});

describe("a user's link that is not plain http(s) is refused", () => {
  it.each([
    { what: "file:", url: "file:///etc/passwd" },
    { what: "ftp:", url: "ftp://ftp.example.com/pub/file.txt" },
    { what: "data:", url: "data:text/html,<script>alert(1)</script>" },
    { what: "javascript:", url: "javascript:alert(document.cookie)" },
    { what: "gopher:", url: `gopher://127.0.0.1:${TARGET_PORT}/_GET%20/` },
    { what: "ws:", url: "ws://example.com/socket" },
    { what: "wss:", url: "wss://example.com/socket" },
    { what: "blob:", url: "blob:https://example.com/550e8400-e29b-41d4-a716-446655440000" },
  ])("refuses a $what URL", async ({ url }) => {
    const failure = await expectRefused(url, "SCHEME_NOT_ALLOWED");
    expect(failure.message).toContain("only http: and https:");
  });

  it.each([
    { what: "a user and password", url: () => "http://admin:s3cret@example.com/" },
    { what: "a user only", url: () => "https://admin@example.com/" },
    { what: "a password only", url: () => "http://:s3cret@example.com/" },
    { what: "credentials, even for an allow-listed host", url: () => `http://admin:s3cret@${SITE_HOST}/` },
  ])("refuses a URL carrying $what, without repeating them", async ({ url }) => {
    const failure = await expectRefused(url(), "INVALID_URL");
    expect(failure.message).toMatch(/credentials/);
  });

  it.each(["not a url", "/relative/path", "http://", "http://[::1", "https://exa mple.com/"])(
    "refuses %j as no URL at all",
    async (url) => {
      await expectRefused(url, "INVALID_URL");
    },
  );
});

describe("a name whose DNS answer points inside is refused", () => {
  it("refuses a name resolving to loopback, after asking the resolver for A and AAAA as JSON", async () => {
    await record("sneaky.example.com", "A", "127.0.0.1");
    const failure = await expectRefused(`http://sneaky.example.com:${TARGET_PORT}${secret()}`, "ADDRESS_NOT_ALLOWED");
    expect(failure.message).toBe("sneaky.example.com resolves to 127.0.0.1, a loopback address (127.0.0.0/8)");
    const queries = await dnsQueries();
    expect(queries.map((query) => query.type).sort()).toEqual(["A", "AAAA"]);
    expect(queries.every((query) => query.name === "sneaky.example.com")).toBe(true);
    expect(queries.every((query) => query.accept === "application/dns-json")).toBe(true);
  });

  it("refuses a name whose only record is an IPv6 loopback (AAAA ::1)", async () => {
    await record("six.example.com", "AAAA", "::1");
    const failure = await expectRefused("http://six.example.com/", "ADDRESS_NOT_ALLOWED");
    expect(failure.message).toMatch(/::1, the loopback address/);
  });

  it("refuses a name when one of several A records is private", async () => {
    await record("mixed.example.com", "A", "93.184.215.14");
    await record("mixed.example.com", "A", "10.20.30.40");
    const failure = await expectRefused("https://mixed.example.com/", "ADDRESS_NOT_ALLOWED");
    expect(failure.message).toMatch(/10\.20\.30\.40, a private address/);
  });

  it("refuses a name with a public A record and a unique-local AAAA record", async () => {
    await record("dual.example.com", "A", "93.184.215.14");
    await record("dual.example.com", "AAAA", "fd00::1");
    await expectRefused("https://dual.example.com/", "ADDRESS_NOT_ALLOWED");
  });

  it("refuses a name whose AAAA record maps the metadata service's IPv4", async () => {
    await record("mapped.example.com", "AAAA", "::ffff:169.254.169.254");
    const failure = await expectRefused("https://mapped.example.com/", "ADDRESS_NOT_ALLOWED");
    expect(failure.message).toMatch(/169\.254\.169\.254/);
  });

  it("refuses a CNAME chain that ends at the metadata service", async () => {
    await record("www.innocent.example", "CNAME", "cdn.innocent.example.");
    await record("cdn.innocent.example", "CNAME", "origin.attacker.example");
    await record("origin.attacker.example", "A", "169.254.169.254");
    const failure = await expectRefused("https://www.innocent.example/", "ADDRESS_NOT_ALLOWED");
    expect(failure.message).toMatch(/www\.innocent\.example resolves to 169\.254\.169\.254, a link-local/);
  });

  it("says a name that does not exist failed DNS, for good", async () => {
    const failure = await expectRefused("https://no-such-name.example/", "DNS_FAILED");
    expect(failure.message).toMatch(/no-such-name\.example does not exist/);
  });

  it("says a resolver that fails may work later, and fetches nothing meanwhile", async () => {
    await fetch(`${dnsUrl}/s/${scope}/__fake/records`, {
      method: "POST",
      body: JSON.stringify({ name: "flaky.example.com", status: 2 }),
    });
    const { fetcher, fetched } = watched();
    const failure = await failureOf(safeFetch(fetcher).fetch("https://flaky.example.com/"));
    expect({ code: failure.code, retryable: failure.retryable }).toEqual({ code: "DNS_FAILED", retryable: true });
    expect(fetched).toEqual([]);
  });
});

describe("a public site that redirects inside is stopped at the redirect", () => {
  const targets: { what: string; to: () => string; code: SafeFetchErrorCode; setup?: () => Promise<void> }[] = [
    { what: "loopback on the target's port", to: at("127.0.0.1"), code: "ADDRESS_NOT_ALLOWED" },
    { what: "loopback in decimal", to: at("2130706433"), code: "ADDRESS_NOT_ALLOWED" },
    { what: "IPv6 loopback", to: at("[::1]"), code: "ADDRESS_NOT_ALLOWED" },
    { what: "IPv4-mapped loopback", to: at("[::ffff:7f00:1]"), code: "ADDRESS_NOT_ALLOWED" },
    { what: "localhost", to: at("localhost"), code: "ADDRESS_NOT_ALLOWED" },
    {
      what: "the metadata service",
      to: plain("http://169.254.169.254/latest/meta-data/"),
      code: "ADDRESS_NOT_ALLOWED",
    },
    { what: "the metadata host name", to: plain("http://metadata.google.internal/"), code: "ADDRESS_NOT_ALLOWED" },
    { what: "a private address", to: plain("http://10.0.0.1/"), code: "ADDRESS_NOT_ALLOWED" },
    { what: "NAT64 of a private address", to: plain("http://[64:ff9b::a00:1]/"), code: "ADDRESS_NOT_ALLOWED" },
    {
      what: "a name resolving to loopback",
      to: at("rebound.example.com"),
      code: "ADDRESS_NOT_ALLOWED",
      setup: () => record("rebound.example.com", "A", "127.0.0.1"),
    },
    {
      what: "a CNAME chain to a private address",
      to: plain("https://alias.example.com/"),
      code: "ADDRESS_NOT_ALLOWED",
      setup: async () => {
        await record("alias.example.com", "CNAME", "inside.example.com");
        await record("inside.example.com", "A", "192.168.0.10");
      },
    },
    { what: "a file: URL", to: plain("file:///etc/passwd"), code: "SCHEME_NOT_ALLOWED" },
    { what: "a gopher: URL", to: () => `gopher://127.0.0.1:${TARGET_PORT}/_x`, code: "SCHEME_NOT_ALLOWED" },
    { what: "a URL with credentials", to: plain("http://admin:s3cret@example.com/"), code: "INVALID_URL" },
  ];

  it.each(targets)("stops a redirect to $what", async ({ to, code, setup }) => {
    await setup?.();
    const start = site(`/redirect?to=${encodeURIComponent(to())}&status=302`);
    const { fetcher, fetched } = watched();
    const failure = await failureOf(safeFetch(fetcher).fetch(start));
    expect(failure.code).toBe(code);
    expect(failure.message).not.toMatch(/hunter2|s3cret/);
    // The site was asked once; the target behind the redirect never.
    expect(fetched).toEqual([start]);
    const log = await received();
    expect(log.map((request) => [request.listener, request.path])).toEqual([["main", "/redirect"]]);
  });

  it("stops a 307 that would carry a POST body inside", async () => {
    const start = site(`/redirect?to=${encodeURIComponent(at("127.0.0.1")())}&status=307`);
    const failure = await failureOf(safeFetch().fetch(start, { method: "POST", body: '{"event":"ping"}' }));
    expect(failure.code).toBe("ADDRESS_NOT_ALLOWED");
    expect((await received()).filter((request) => request.listener === "alt")).toEqual([]);
  });
});

describe("limits on what a site may make us do", () => {
  it("gives up on a site that redirects more times than allowed", async () => {
    const { fetcher, fetched } = watched();
    const failure = await failureOf(safeFetch(fetcher).fetch(site("/chain/10"), { maxRedirects: 3 }));
    expect({ code: failure.code, retryable: failure.retryable }).toEqual({
      code: "TOO_MANY_REDIRECTS",
      retryable: false,
    });
    expect(fetched).toHaveLength(4);
  });

  it("refuses a body whose Content-Length is over maxBytes, before reading it", async () => {
    const failure = await failureOf(safeFetch().fetch(site("/big?bytes=2000000"), { maxBytes: 100_000 }));
    expect(failure.code).toBe("TOO_LARGE");
    expect(failure.message).toMatch(/announced 2000000 bytes/);
  });

  it("stops reading a body with no Content-Length once it passes maxBytes", async () => {
    const failure = await failureOf(
      safeFetch().fetch(site(`/big?bytes=${64 * 1024 * 1024}&length=0`), { maxBytes: 256 * 1024 }),
    );
    expect(failure.code).toBe("TOO_LARGE");
    expect(failure.message).toMatch(/reading stopped/);
    // The connection is dropped: the site sees its reader leave long before it wrote 64 MiB.
    await expect
      .poll(async () => (await received())[0], { timeout: 5_000 })
      .toMatchObject({ path: "/big", left: true });
    const [request] = await received();
    expect(request?.sent).toBeLessThan(64 * 1024 * 1024);
  });

  it("times out a site that answers too slowly, as a failure worth retrying", async () => {
    const started = Date.now();
    const failure = await failureOf(safeFetch().fetch(site("/slow?ms=5000"), { timeoutMs: 300 }));
    expect({ code: failure.code, retryable: failure.retryable }).toEqual({ code: "TIMEOUT", retryable: true });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("times out a site that sends its headers and then stalls its body", async () => {
    const started = Date.now();
    const failure = await failureOf(safeFetch().fetch(site("/slow?ms=5000&stage=body"), { timeoutMs: 300 }));
    expect(failure.code).toBe("TIMEOUT");
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("counts a caller's own timeout signal as a timeout", async () => {
    const failure = await failureOf(safeFetch().fetch(site("/slow?ms=5000"), { signal: AbortSignal.timeout(300) }));
    expect(failure.code).toBe("TIMEOUT");
  });

  it("refuses a content type outside the allowed list, and takes any when told to", async () => {
    const binary = site("/page/blob?type=application/octet-stream");
    const failure = await failureOf(safeFetch().fetch(binary));
    expect(failure.code).toBe("CONTENT_TYPE_NOT_ALLOWED");
    expect(failure.message).toMatch(/application\/octet-stream/);
    expect((await safeFetch().fetch(binary, { allowContentTypes: null })).status).toBe(200);
    const svg = site("/page/logo?type=image/svg%2Bxml");
    expect((await failureOf(safeFetch().fetch(svg))).code).toBe("CONTENT_TYPE_NOT_ALLOWED");
    expect((await safeFetch().fetch(svg, { allowContentTypes: ["image/*"] })).status).toBe(200);
  });

  it("reports an allow-listed host that refuses connections as a network failure worth retrying", async () => {
    const failure = await failureOf(safeFetch(undefined, ["127.0.0.1:1"]).fetch("http://127.0.0.1:1/"));
    expect({ code: failure.code, retryable: failure.retryable }).toEqual({ code: "NETWORK", retryable: true });
    expect(failure.message).toBe("127.0.0.1 could not be reached");
  });
});

describe("what a user may fetch still works", () => {
  it("reads a page from an allow-listed host", async () => {
    const page = await safeFetch().fetch(site("/page/home"));
    expect(page.status).toBe(200);
    expect(page.url).toBe(site("/page/home"));
    expect(page.redirects).toEqual([]);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.text()).toContain("<title>home</title>");
    expect(page.body.byteLength).toBe(new TextEncoder().encode(page.text()).byteLength);
  });

  it("reads the same host however its address is spelt, as the allow-list entry normalised", async () => {
    const port = new URL(sitesUrl).port;
    const page = await safeFetch().fetch(`http://0x7f.1:${port}/s/${scope}/page/spelt`);
    expect(page.url).toBe(site("/page/spelt"));
    expect(await safeFetch(undefined, [`0x7f000001:${port}`]).check(site("/"))).toMatchObject({ allowListed: true });
  });

  it("follows a relative redirect and a chain, and says where it went", async () => {
    const page = await safeFetch().fetch(site(`/redirect?to=${encodeURIComponent("page/next")}`));
    expect(page.url).toBe(site("/page/next"));
    expect(page.redirects).toEqual([site(`/redirect?to=${encodeURIComponent("page/next")}`)]);
    const chained = await safeFetch().fetch(site("/chain/3"));
    expect(chained.url).toBe(site("/chain/0"));
    expect(chained.redirects).toEqual([site("/chain/3"), site("/chain/2"), site("/chain/1")]);
  });

  it("turns a POST into a GET after a 303, and keeps it after a 307", async () => {
    const init = { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' };
    await safeFetch().fetch(site(`/redirect?to=${encodeURIComponent(site("/echo"))}&status=303`), init);
    await safeFetch().fetch(site(`/redirect?to=${encodeURIComponent(site("/echo"))}&status=307`), init);
    const log = await received();
    expect(log.map((request) => [request.path, request.method, request.body])).toEqual([
      ["/redirect", "POST", '{"a":1}'],
      ["/echo", "GET", ""],
      ["/redirect", "POST", '{"a":1}'],
      ["/echo", "POST", '{"a":1}'],
    ]);
    expect(log[1]?.headers["content-type"]).toBeUndefined();
  });

  it("hands back a redirect as it is when told not to follow, as webhooks need", async () => {
    const start = site(`/redirect?to=${encodeURIComponent("http://169.254.169.254/")}&status=302`);
    const answer = await safeFetch().fetch(start, { method: "POST", body: "{}", maxRedirects: 0 });
    expect(answer.status).toBe(302);
    expect(answer.headers.get("location")).toBe("http://169.254.169.254/");
    expect(answer.redirects).toEqual([]);
    expect(await received()).toHaveLength(1);
  });

  it("keeps the Authorization header on the same origin and drops it when a redirect leaves", async () => {
    const both = [SITE_HOST, new URL(targetUrl).host];
    const headers = { authorization: "Bearer s3cret" };
    const elsewhere = `${targetUrl}/s/${scope}/echo`;
    await safeFetch(undefined, both).fetch(site(`/redirect?to=${encodeURIComponent(site("/echo"))}`), { headers });
    await safeFetch(undefined, both).fetch(site(`/redirect?to=${encodeURIComponent(elsewhere)}`), { headers });
    const log = await received();
    expect(log.map((request) => [request.listener, request.path, request.headers.authorization])).toEqual([
      ["main", "/redirect", "Bearer s3cret"],
      ["main", "/echo", "Bearer s3cret"],
      ["main", "/redirect", "Bearer s3cret"],
      ["alt", "/echo", undefined],
    ]);
  });

  it("fetches a name whose every address is public, connecting by that name", async () => {
    await record("news.example.org", "A", "93.184.215.14");
    await record("news.example.org", "AAAA", "2606:2800:21f:cb07:6820:80da:af6b:8b2c");
    const { fetcher, fetched } = watched((url) =>
      url.startsWith("https://news.example.org/")
        ? new Response("<h1>Story</h1>", { headers: { "content-type": "text/html" } })
        : undefined,
    );
    const page = await safeFetch(fetcher).fetch("https://news.example.org/story?id=7");
    expect(page.text()).toBe("<h1>Story</h1>");
    expect(fetched).toEqual(["https://news.example.org/story?id=7"]);
    expect(await safeFetch(fetcher).check("https://NEWS.example.org./")).toEqual({
      url: "https://news.example.org./",
      host: "news.example.org.",
      port: 443,
      addresses: ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
      allowListed: false,
    });
  });

  it("follows a CNAME chain to a public address, and a public IPv6 literal or its 6to4 form", async () => {
    await record("blog.example.org", "CNAME", "hosting.example.net");
    await record("hosting.example.net", "A", "151.101.1.195");
    const { fetcher, fetched } = watched(() => new Response("ok", { headers: { "content-type": "text/plain" } }));
    await safeFetch(fetcher).fetch("https://blog.example.org/");
    await safeFetch(fetcher).fetch("http://[2606:4700:4700::1111]/");
    await safeFetch(fetcher).fetch("http://[2002:9765:103::1]/");
    await safeFetch(fetcher).fetch("http://[::ffff:1.1.1.1]/");
    expect(fetched).toEqual([
      "https://blog.example.org/",
      "http://[2606:4700:4700::1111]/",
      "http://[2002:9765:103::1]/",
      "http://[::ffff:101:101]/",
    ]);
  });

  it("follows a redirect from https to http when the new hop passes the checks too", async () => {
    await record("secure.example.org", "A", "93.184.215.14");
    await record("plain.example.org", "A", "93.184.215.15");
    const { fetcher, fetched } = watched((url) =>
      url.startsWith("https:")
        ? new Response(null, { status: 301, headers: { location: "http://plain.example.org/doc" } })
        : new Response("doc", { headers: { "content-type": "text/plain" } }),
    );
    const page = await safeFetch(fetcher).fetch("https://secure.example.org/doc");
    expect(page.url).toBe("http://plain.example.org/doc");
    expect(fetched).toEqual(["https://secure.example.org/doc", "http://plain.example.org/doc"]);
  });

  it("looks a name up once for many fetches, yet checks every hop, and a redirect's new host on its own", async () => {
    await record("shop.example.org", "A", "93.184.215.14");
    await record("cdn.example.org", "A", "93.184.215.15");
    await record("sneaky.example.org", "A", "10.0.0.7");
    const { fetcher, fetched } = watched((url) => {
      if (url.includes("/to-cdn"))
        return new Response(null, { status: 302, headers: { location: "https://cdn.example.org/a" } });
      if (url.includes("/to-inside")) {
        return new Response(null, { status: 302, headers: { location: `http://sneaky.example.org:${TARGET_PORT}/x` } });
      }
      return new Response("ok", { headers: { "content-type": "text/plain" } });
    });
    const oneJob = safeFetch(fetcher);
    for (const path of ["/1", "/2", "/3", "/to-cdn", "/4"]) await oneJob.fetch(`https://shop.example.org${path}`);
    await oneJob.fetch("https://SHOP.example.org./5");
    // A redirect out of a host already looked up still looks up, and checks, the host it leads to.
    expect((await failureOf(oneJob.fetch("https://shop.example.org/to-inside"))).code).toBe("ADDRESS_NOT_ALLOWED");
    const queries = (await dnsQueries()).map((query) => `${query.name} ${query.type}`);
    expect(queries.sort()).toEqual(
      [
        "cdn.example.org AAAA",
        "cdn.example.org A",
        "shop.example.org AAAA",
        "shop.example.org A",
        "sneaky.example.org AAAA",
        "sneaky.example.org A",
      ].sort(),
    );
    expect(fetched).not.toContain(`http://sneaky.example.org:${TARGET_PORT}/x`);
    expect((await received()).filter((request) => request.listener === "alt")).toEqual([]);
    // Another safe fetch (another job) asks again.
    await safeFetch(fetcher).fetch("https://shop.example.org/1");
    expect((await dnsQueries()).filter((query) => query.name === "shop.example.org")).toHaveLength(4);
  });

  it("builds from the environment, honouring FETCH_ALLOW_HOSTS and FETCH_DNS_RESOLVER_URL", async () => {
    const fromEnv = safeFetchFromEnv({ FETCH_ALLOW_HOSTS: [SITE_HOST], FETCH_DNS_RESOLVER_URL: resolverUrl() });
    expect((await fromEnv.fetch(site("/page/env"))).status).toBe(200);
    expect((await failureOf(fromEnv.fetch("https://unknown.example/"))).code).toBe("DNS_FAILED");
    expect(await dnsQueries()).toHaveLength(2);
  });

  it("refuses an allow-list entry that is not host:port", () => {
    expect(() => createSafeFetch({ allowHosts: ["http://example.com/"], resolverUrl: resolverUrl() })).toThrow(
      /not host:port/,
    );
  });
});
