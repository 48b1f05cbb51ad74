import { createMiddleware } from "hono/factory";
import { checkEnv, type RawEnv } from "../env.js";
import { ApiError } from "../lib/errors.js";
import { createLogger, type Logger } from "../lib/log.js";
import { writeAuditEntries } from "../services/audit/record-audit.js";
import { type AuditEntry, createServiceContext, type ServiceContext } from "../services/context.js";
import type { RequestIdVariables } from "./request-id.js";

/** Context variables set by {@link init}. */
export type InitVariables = { ctx: ServiceContext; log: Logger };

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Validates the environment (once per isolate) and builds the request's service context. After the response:
 * writes the audit entries services queued (or, for a successful state-changing request by a known caller
 * that queued none, a generic one, so every module is audited without a call in each route), then closes
 * what the request opened. A bad environment answers 503 `CONFIG_INVALID` naming each bad setting.
 * @example
 * app.use("*", requestId(), init());
 */
export const init = () =>
  createMiddleware<{ Bindings: RawEnv; Variables: InitVariables & RequestIdVariables }>(async (c, next) => {
    const check = checkEnv(c.env);
    const level = check.ok ? check.env.LOG_LEVEL : "info";
    const log = createLogger({ level, fields: { requestId: c.var.requestId } });
    c.set("log", log);
    if (!check.ok) {
      log.error("environment invalid", { problems: check.problems });
      throw new ApiError("CONFIG_INVALID", `Settings missing or invalid: ${check.problems.join("; ")}`);
    }
    const cleanups: Array<() => Promise<unknown>> = [];
    const entries: AuditEntry[] = [];
    const deferred: Promise<unknown>[] = [];
    // Deferred work may use the database, so the clean-up that closes it waits for that work first.
    const defer = (work: Promise<unknown>) => {
      deferred.push(work.catch((error) => log.error("deferred work failed", { error })));
    };
    const ctx = createServiceContext({
      env: check.env,
      log,
      requestId: c.var.requestId,
      client: { ip: c.req.header("cf-connecting-ip") ?? null, userAgent: c.req.header("user-agent") ?? null },
      cleanup: (work) => cleanups.push(work),
      defer,
      audit: (entry) => entries.push(entry),
    });
    c.set("ctx", ctx);
    try {
      await next();
    } finally {
      if (
        entries.length === 0 &&
        ctx.genericAudit &&
        ctx.caller &&
        STATE_CHANGING.has(c.req.method) &&
        c.res.status < 400
      ) {
        entries.push({ action: `${c.req.method.toLowerCase()} ${c.req.routePath}`, details: { path: c.req.path } });
      }
      const finish = async () => {
        await writeAuditEntries({ ctx, entries });
        // Deferred work may defer more (a chat turn records usage, then names the conversation): wait until
        // nothing new was added, so the clean-up never closes the database under late work.
        for (let waited = 0; waited < deferred.length; ) {
          const batch = deferred.slice(waited);
          waited = deferred.length;
          await Promise.allSettled(batch);
        }
        await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
      };
      if (entries.length > 0 || cleanups.length > 0 || deferred.length > 0) {
        try {
          c.executionCtx.waitUntil(finish());
        } catch {
          await finish();
        }
      }
    }
  });
