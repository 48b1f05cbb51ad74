import type { ResearchState } from "../../../db/schema/index.js";
import type { RunContext } from "../run-context.js";
import { rankPassages } from "../source-index.js";

/** Step 4: the best passages of the sources read for each sub-question (once). */
export const rankStep = async (run: RunContext, questions: string[]): Promise<NonNullable<ResearchState["ranked"]>> => {
  if (run.state.ranked) return run.state.ranked;
  await run.stage("ranking", 62);
  const ranked = [];
  for (const question of questions) {
    run.slice.spend(2);
    ranked.push({
      question,
      passages: await rankPassages(run.ctx, { sessionId: run.session.id, question, k: run.depth.passagesPerSection }),
    });
  }
  run.state.ranked = ranked;
  await run.save();
  return ranked;
};
