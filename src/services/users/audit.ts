import { ApiError } from "../../lib/errors.js";
import { listAudit } from "../audit/record-audit.js";
import type { ServiceContext } from "../context.js";

/** The caller's own audit trail as the API shows it. */
export const listMyAudit = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    limit: number;
    cursor?: string | undefined;
    action?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
  };
}) => {
  if (!ctx.caller) throw new ApiError("UNAUTHENTICATED");
  const page = await listAudit({
    ctx,
    userId: ctx.caller.userId,
    input: {
      limit: input.limit,
      ...(input.cursor ? { cursor: input.cursor } : {}),
      ...(input.action ? { action: input.action } : {}),
      ...(input.from ? { from: new Date(input.from) } : {}),
      ...(input.to ? { to: new Date(input.to) } : {}),
    },
  });
  return {
    items: page.items.map((entry) => ({
      id: entry.id,
      action: entry.action,
      resource_type: entry.resourceType,
      resource_id: entry.resourceId,
      details: entry.details,
      ip_address: entry.ipAddress,
      user_agent: entry.userAgent,
      request_id: entry.requestId,
      created_at: entry.createdAt.toISOString(),
    })),
    next_cursor: page.nextCursor,
  };
};
