import { OpenAPIHono } from "@hono/zod-openapi";
import type { RawEnv } from "../env.js";
import type { InitVariables } from "../middleware/init.js";
import type { RequestIdVariables } from "../middleware/request-id.js";
import { ApiError, type FieldError } from "./errors.js";

/** The Hono environment of APE's app: raw bindings in, the variables our middleware sets. */
export type AppEnv = { Bindings: RawEnv; Variables: RequestIdVariables & InitVariables };

export type App = OpenAPIHono<AppEnv>;

const TARGET_NAMES: Record<string, string> = {
  json: "body",
  form: "body",
  query: "query",
  param: "path",
  header: "header",
};

/**
 * An OpenAPIHono whose validation failures become `VALIDATION_FAILED` problems listing each field and why.
 * @example
 * const app = createApp();
 * registerHealth(app);
 */
export const createApp = () =>
  new OpenAPIHono<AppEnv>({
    strict: true,
    defaultHook: (result) => {
      if (result.success) return;
      const where = TARGET_NAMES[result.target] ?? result.target;
      const errors: FieldError[] = result.error.issues.map((issue) => ({
        path: [where, ...issue.path.map(String)].join("."),
        message: issue.message,
      }));
      throw new ApiError("VALIDATION_FAILED", errors.map((error) => `${error.path}: ${error.message}`).join("; "), {
        extensions: { errors },
      });
    },
  });
