import { researchSessions, type SkippedSource, type WrittenSection } from "../../../db/schema/index.js";
import { LostHold } from "../../jobs/outcome.js";
import { recordEvent, sendFirstAttempts } from "../../webhooks/events.js";
import { researchEventData } from "../../webhooks/payloads.js";
import { cacheReport } from "../cache.js";
import { checkSection } from "../citations.js";
import { sourceKindOf } from "../document-sources.js";
import { writeSummary } from "../model.js";
import { draftNumbering, numberSources, reportMarkdown } from "../report.js";
import type { RunContext } from "../run-context.js";

/**
 * Step 6: the summary (checked as a section is), the sources numbered, the report, and in one update with its
 * webhook event the session completed; then the report is cached for the same question.
 */
export const finishStep = async (run: RunContext, questions: string[], sections: WrittenSection[]) => {
  const { ctx, session, state, usage, progress } = run;
  const { texts: draftTexts, draft } = draftNumbering(sections);
  let summary = {
    text: "",
    cited: [] as Array<{ url: string; quote: string }>,
    flagged: [] as WrittenSection["flagged"],
  };
  const written = sections.filter((section) => section.text.trim() !== "");
  if (written.length > 0 && !run.stopIfOver("before the summary was written")) {
    const text = await writeSummary(ctx, {
      query: session.query,
      sections: sections.map((section, index) => ({ question: section.question, text: draftTexts[index] ?? "" })),
      spent: run.spent,
    });
    // The texts its quotes are checked against, read by this slice or an earlier one.
    for (const source of draft) await run.sourceText(source.url);
    // The summary cites the draft's numbers; each is checked as a section's passage is, against its quote.
    const checked = checkSection({
      question: "summary",
      draft: { text, quotes: draft.map((source, index) => ({ n: index + 1, quote: source.quote })) },
      passages: draft.map((source, index) => ({
        chunk_id: `draft-${index + 1}`,
        url: source.url,
        text: source.quote,
      })),
      sourceText: (url) => run.texts.get(url) ?? "",
    });
    summary = { text: checked.text, cited: checked.cited, flagged: checked.flagged };
  }
  if (summary.text === "") {
    summary.text =
      written.length > 0
        ? "The summary was not written because the session's budget ran out; the sections below hold what was found."
        : "No source that was read answers this question.";
  }
  const reads = state.reads ?? {};
  const { texts: final, sources } = numberSources([summary, ...sections], (url) => {
    const entry = reads[url];
    const read =
      entry?.status === "read"
        ? { title: entry.title, accessed_at: entry.accessed_at }
        : { title: url, accessed_at: new Date().toISOString() };
    return { ...sourceKindOf(url, read.title), ...read };
  });
  const skipped: SkippedSource[] = Object.entries(reads).flatMap(([url, entry]) =>
    entry.status === "skipped" ? [{ url, reason: entry.reason }] : [],
  );
  const unread = (state.search?.results ?? []).filter((candidate) => !reads[candidate.url]);
  for (const candidate of unread) skipped.push({ url: candidate.url, reason: "not read: the session stopped early" });
  const finalSections = questions.map((question, index) => ({
    question,
    text: final[index + 1] ?? (index < sections.length ? "" : "_Not written: the session stopped early._"),
  }));
  const flagged = [...summary.flagged, ...sections.flatMap((section) => section.flagged)];
  const report = reportMarkdown({
    query: session.query,
    summary: final[0] ?? summary.text,
    sections: finalSections,
    sources,
    skipped,
    stoppedEarly: state.stopped_early ?? null,
  });
  const citationsKept = final.reduce((count, text) => count + (text.match(/\[\d+\]/g)?.length ?? 0), 0);
  progress.stage = "done";
  progress.percent = 100;
  // The report becomes the session's in this one update, with its webhook event, or not at all.
  const outcome = await ctx.db.transaction(async (tx) => {
    const [done] = await tx
      .update(researchSessions)
      .set({
        status: "completed",
        summary: final[0] ?? summary.text,
        sources,
        report,
        skippedSources: skipped,
        citationCheck: { citations_kept: citationsKept, citations_removed: flagged.length, flagged },
        stoppedEarly: state.stopped_early ?? null,
        state,
        usage,
        progress,
        error: null,
        leaseUntil: null,
        completedAt: new Date(),
      })
      .where(run.held())
      .returning();
    if (!done) return null;
    const deliveries = await recordEvent(tx, {
      userId: done.userId,
      type: "research.completed",
      webhookUrl: done.webhookUrl,
      data: researchEventData({ ...done, status: "completed" }),
    });
    return { completed: done, deliveries };
  });
  if (!outcome) throw new LostHold();
  await sendFirstAttempts(ctx, outcome.deliveries);
  await run.event("completed", { sources: sources.length, stopped_early: state.stopped_early ?? null });
  await cacheReport(ctx, outcome.completed);
  ctx.log.info("research completed", { researchId: session.id, sources: sources.length, calls: usage.model_calls });
};
