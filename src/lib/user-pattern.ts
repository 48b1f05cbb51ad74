import { RE2JS } from "re2js";

/** A regular expression a user gave, compiled for an engine whose matching time is linear in the input. */
export type UserPattern = { source: string; test: (text: string) => boolean };

/**
 * Compiles a user's regular expression with RE2JS (RE2's port): no backtracking, so `^(a|a)*$` against any
 * input takes time linear in its length instead of stalling the isolate (and every request it serves).
 * Backreferences and lookarounds are what RE2 cannot do in linear time, so such a pattern throws.
 * @example
 * compileUserPattern("^/docs/").test("/docs/intro"); // true
 */
export const compileUserPattern = (source: string): UserPattern => {
  const compiled = RE2JS.compile(source);
  return { source, test: (text) => compiled.test(text) };
};

/**
 * Why a user's pattern cannot be used, or null when it can: the message for a 400 that names the field.
 * @example
 * ColumnRulesSchema.shape.pattern.superRefine((value, ctx) => { const why = userPatternProblem(value); … })
 */
export const userPatternProblem = (source: string): string | null => {
  try {
    compileUserPattern(source);
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `is not a regular expression APE can run in linear time (RE2 syntax; no backreferences or lookarounds): ${reason}`;
  }
};
