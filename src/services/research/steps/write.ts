import type { ResearchState, WrittenSection } from "../../../db/schema/index.js";
import { checkSection } from "../citations.js";
import { writeSection } from "../model.js";
import type { RunContext } from "../run-context.js";

/**
 * Step 5: a section per sub-question, each checked against its sources' texts and checkpointed as it is
 * written. Stops when a budget runs out (the report says so) or the slice is spent (`done` false: the next
 * slice writes the rest).
 */
export const writeStep = async (run: RunContext, ranked: NonNullable<ResearchState["ranked"]>) => {
  run.state.sections ??= [];
  const sections = run.state.sections;
  if (sections.length >= ranked.length) return { sections, done: true };
  await run.stage("writing", 65 + Math.round((30 * sections.length) / ranked.length));
  let writtenHere = 0;
  for (const { question, passages } of ranked.slice(sections.length)) {
    // One section at least per slice, so every slice moves the session on.
    if (writtenHere > 0 && run.slice.over()) return { sections, done: false };
    let section: WrittenSection;
    if (passages.length === 0) section = { question, text: "", cited: [], flagged: [] };
    else {
      if (run.stopIfOver(`after ${sections.length} of ${ranked.length} sections were written`)) break;
      const draft = await writeSection(run.ctx, { query: run.session.query, question, passages, spent: run.spent });
      for (const url of new Set(passages.map((passage) => passage.url))) await run.sourceText(url);
      const {
        kept: _kept,
        removed: _removed,
        ...checked
      } = checkSection({ question, draft, passages, sourceText: (url) => run.texts.get(url) ?? "" });
      section = checked;
    }
    writtenHere += 1;
    sections.push(section);
    run.progress.sections_written = sections.length;
    run.progress.percent = 65 + Math.round((30 * sections.length) / ranked.length);
    await run.save();
    await run.event("section", { question, index: sections.length - 1, citations: section.cited.length });
  }
  return { sections, done: true };
};
