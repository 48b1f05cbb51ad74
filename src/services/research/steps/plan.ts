import { planQuestions } from "../model.js";
import type { RunContext } from "../run-context.js";

/** Step 1: the sub-questions the report answers, planned once (a later slice finds them in the state). */
export const planStep = async (run: RunContext) => {
  if (run.state.plan) return run.state.plan.sub_questions;
  await run.stage("planning", 5);
  const questions = await planQuestions(run.ctx, {
    query: run.session.query,
    count: run.depth.subQuestions,
    searching: run.session.sourceKind,
    spent: run.spent,
  });
  run.state.plan = { sub_questions: questions };
  run.progress.sub_questions = questions.length;
  await run.save();
  await run.event("plan", { sub_questions: questions });
  return questions;
};
