import { describe, expect, it } from "vitest";
import { canonicalUrl } from "../../src/services/research/canonical-url.js";
import { checkSection, quoteOccurs, renumber } from "../../src/services/research/citations.js";
import { mergeResults } from "../../src/services/research/search.js";

const passages = [
  { chunk_id: "a", url: "https://a.example/", text: "Water boils at 100 °C at sea level." },
  { chunk_id: "b", url: "https://b.example/", text: "At 3000 m water boils near 90 °C." },
];
const texts: Record<string, string> = {
  "https://a.example/": "# Boiling\n\nWater boils at **100 °C** at sea level.",
  "https://b.example/": "At 3000 m water boils near 90 °C.",
};
const sourceText = (url: string) => texts[url] ?? "";

describe("the citation check", () => {
  it("keeps citations whose quote is in the source, numbered by first use", () => {
    const checked = checkSection({
      question: "q",
      draft: { text: "It boils lower up high [2]. At sea level it is 100 °C [1][2].", quotes: [] },
      passages,
      sourceText,
    });
    expect(checked.text).toBe("It boils lower up high [1]. At sea level it is 100 °C [2][1].");
    expect(checked.cited.map((source) => source.url)).toEqual(["https://b.example/", "https://a.example/"]);
    expect(checked.flagged).toEqual([]);
  });

  it("removes a claim citing a passage never given, or with a quote its source does not hold", () => {
    const checked = checkSection({
      question: "q",
      draft: {
        text: "Water boils at 100 °C [1]. It boils at 10 °C on Mars [7].\n\nIt never boils at altitude [2].",
        quotes: [
          { n: 1, quote: "Water boils at 100 °C" },
          { n: 2, quote: "water never boils" },
        ],
      },
      passages,
      sourceText,
    });
    expect(checked.text).toBe("Water boils at 100 °C [1].");
    expect(checked.flagged).toEqual([
      { claim: "It boils at 10 °C on Mars.", reason: "cites [7], but only passages 1 to 2 were given" },
      { claim: "It never boils at altitude.", reason: "the quote given for [2] does not occur in https://b.example/" },
    ]);
  });

  it("compares quotes loosely over Markdown marks, quotes and spacing, never an empty quote", () => {
    expect(quoteOccurs("water  boils at 100 °C", texts["https://a.example/"] ?? "")).toBe(true);
    expect(quoteOccurs("“Water boils”", 'He said "water boils".')).toBe(true);
    expect(quoteOccurs("  ", "anything")).toBe(false);
  });

  it("renumbers markers, dropping the ones it does not map", () => {
    expect(renumber("A [1, 3]. B [2].", (n) => (n === 2 ? null : n + 10))).toBe("A [11][13]. B .");
  });
});

describe("sources found by search", () => {
  it("are one per canonical URL, taken in turn from each question, within the limit and the domains", () => {
    const merged = mergeResults(
      [
        [
          { url: "https://www.A.example/x/?utm_source=feed", title: "A", description: "" },
          { url: "https://c.example/", title: "C", description: "" },
        ],
        [
          { url: "https://a.example/x#part", title: "A again", description: "" },
          { url: "https://blocked.example/", title: "No", description: "" },
          { url: "https://d.example/", title: "D", description: "" },
        ],
      ],
      3,
      (url) => !url.includes("blocked"),
    );
    expect(merged).toEqual([
      { url: "https://a.example/x", title: "A", description: "", questions: [0, 1] },
      { url: "https://c.example/", title: "C", description: "", questions: [0] },
      { url: "https://d.example/", title: "D", description: "", questions: [1] },
    ]);
    expect(canonicalUrl("ftp://a.example/")).toBeNull();
    expect(canonicalUrl("https://a.example:443/?b=2&a=1")).toBe("https://a.example/?a=1&b=2");
  });
});
