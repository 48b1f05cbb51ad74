import type { CodeToolOutcome } from "../../../../services/code/run-code-tool.js";

/** A code tool's whole answer; the tools never ask for a stream, so a stream here is a bug. */
export const codeAnswer = <T>(outcome: CodeToolOutcome<T>) => {
  if (outcome.kind !== "answer") throw new Error("a code tool answered a stream it was not asked for");
  return outcome.answer;
};
