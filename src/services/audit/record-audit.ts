import { and, desc, eq, gte, lt, lte } from "drizzle-orm";
import { auditLogs } from "../../db/schema/index.js";
import type { AuditEntry, ServiceContext } from "../context.js";

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;
const IPV6 = /^[0-9a-f:]+$/i;

/** Details never carry secrets: drop any member whose name says it is one. */
const SECRET_KEY = /pass(word)?|secret|token|key_?hash|authori[sz]ation|cookie/i;
const scrub = (details: Record<string, unknown> | undefined) =>
  details && Object.fromEntries(Object.entries(details).filter(([key]) => !SECRET_KEY.test(key)));

/**
 * Writes queued audit entries with the request's id, IP and user agent. Called after the response by the init
 * middleware, so an audit write never slows or fails a request; a failed write is logged.
 */
export const writeAuditEntries = async ({ ctx, entries }: { ctx: ServiceContext; entries: AuditEntry[] }) => {
  if (entries.length === 0) return;
  const ip = ctx.client.ip && (IPV4.test(ctx.client.ip) || IPV6.test(ctx.client.ip)) ? ctx.client.ip : null;
  try {
    await ctx.db.insert(auditLogs).values(
      entries.map((entry) => ({
        userId: entry.userId === undefined ? (ctx.caller?.userId ?? null) : entry.userId,
        action: entry.action,
        resourceType: entry.resourceType ?? null,
        resourceId: entry.resourceId ?? null,
        details: scrub(entry.details) ?? null,
        ipAddress: ip,
        userAgent: ctx.client.userAgent?.slice(0, 512) ?? null,
        requestId: ctx.requestId,
      })),
    );
  } catch (error) {
    ctx.log.error("audit write failed", { error, actions: entries.map((entry) => entry.action) });
  }
};

export type AuditQuery = { limit: number; cursor?: string; action?: string; from?: Date; to?: Date };

/**
 * The caller's own audit trail, newest first, cursor-paginated by id (ids sort by time).
 * @example
 * const page = await listAudit({ ctx, input: { limit: 50 } });
 */
export const listAudit = async ({ ctx, userId, input }: { ctx: ServiceContext; userId: string; input: AuditQuery }) => {
  const rows = await ctx.db
    .select()
    .from(auditLogs)
    .where(
      and(
        eq(auditLogs.userId, userId),
        input.cursor ? lt(auditLogs.id, input.cursor) : undefined,
        input.action ? eq(auditLogs.action, input.action) : undefined,
        input.from ? gte(auditLogs.createdAt, input.from) : undefined,
        input.to ? lte(auditLogs.createdAt, input.to) : undefined,
      ),
    )
    .orderBy(desc(auditLogs.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return { items: page, nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
};
