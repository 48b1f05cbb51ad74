/** Query parameters that track a click and never change what a page says. */
const TRACKING = /^(utm_[a-z]+|gclid|fbclid|mc_cid|mc_eid|ref|ref_src|igshid|msclkid)$/i;

/**
 * A URL in the one form two links to the same page share: http(s) only, host lower-cased without `www.`, no
 * default port, no fragment, no tracking parameters, the rest of the query sorted, no trailing slash (except
 * the root). Null for anything that is not an http(s) URL.
 * @example
 * canonicalUrl("https://WWW.Example.com/a/?utm_source=x&b=2&a=1#top"); // "https://example.com/a?a=1&b=2"
 */
export const canonicalUrl = (raw: string): string | null => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  url.hash = "";
  url.hostname = url.hostname.toLowerCase().replace(/^www\./, "");
  const kept = [...url.searchParams.entries()].filter(([name]) => !TRACKING.test(name));
  kept.sort(([a, x], [b, y]) => a.localeCompare(b) || x.localeCompare(y));
  url.search = new URLSearchParams(kept).toString();
  if (url.pathname.length > 1) url.pathname = url.pathname.replace(/\/+$/, "");
  return url.href;
};

/** Whether `host` is `domain` or under it (`docs.example.com` is under `example.com`). */
export const hostUnder = (host: string, domain: string) => {
  const h = host.toLowerCase().replace(/^www\./, "");
  const d = domain.toLowerCase().replace(/^www\./, "");
  return h === d || h.endsWith(`.${d}`);
};
