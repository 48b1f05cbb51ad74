import type { Schemas } from "../../api/client";

export type Citation = Schemas["Citation"];

export const citationHref = (c: Citation) => `/documents/${encodeURIComponent(c.document_id)}?page=${c.page}`;

/** Links `[n]` in an answer to the cited document's page. */
export const withCitationLinks = (content: string, citations: Citation[] | null | undefined) => {
  if (!citations?.length) return content;
  const byN = new Map(citations.map((c) => [c.n, c]));
  return content.replace(/\[(\d+)\](?!\()/g, (whole, n: string) => {
    const c = byN.get(Number(n));
    return c ? `[\\[${n}\\]](${citationHref(c)})` : whole;
  });
};
