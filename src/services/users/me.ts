import { eq } from "drizzle-orm";
import { isUniqueViolation } from "../../db/errors.js";
import { apiKeys, users } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import { forgetApiKeys } from "../api-keys/api-keys.js";
import { normaliseEmail, publicUser } from "../auth/accounts.js";
import { verifyPassword } from "../auth/passwords.js";
import { revokeAllSessions } from "../auth/sessions.js";
import type { ServiceContext } from "../context.js";
import { forgetBudget } from "../usage/budget.js";

const callerRow = async (ctx: ServiceContext) => {
  if (!ctx.caller) throw new ApiError("UNAUTHENTICATED");
  const [user] = await ctx.db.select().from(users).where(eq(users.id, ctx.caller.userId)).limit(1);
  if (!user) throw new ApiError("UNAUTHENTICATED", "This account no longer exists.");
  return user;
};

const assertPassword = async (password: string | undefined, stored: string) => {
  if (!password || !(await verifyPassword(password, stored)).ok) {
    throw new ApiError("INVALID_PASSWORD", "The current password is missing or wrong.");
  }
};

/**
 * The budget check caches the budget for a few minutes; forgetting it makes a change count from the next call.
 * The change is already saved, so a Redis failure here is logged, not answered: the old budget then holds
 * until the cache expires.
 */
const forgetCachedBudget = async (ctx: ServiceContext, userId: string) => {
  try {
    await forgetBudget({ ctx, userId });
  } catch (error) {
    ctx.log.warn("cached budget not forgotten; the old one holds until it expires", { userId, error });
  }
};

/** The caller's account. */
export const getMe = async ({ ctx }: { ctx: ServiceContext }) => publicUser(await callerRow(ctx));

/**
 * Changes the caller's name, email and/or monthly budget; a new email needs the current password.
 * @example
 * await updateMe({ ctx, input: { name: "Ada", monthly_budget_usd: 25 } });
 */
export const updateMe = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    name?: string | null | undefined;
    email?: string | undefined;
    current_password?: string | undefined;
    monthly_budget_usd?: number | null | undefined;
  };
}) => {
  const user = await callerRow(ctx);
  const email = input.email === undefined ? undefined : normaliseEmail(input.email);
  const emailChanges = email !== undefined && email !== user.email;
  if (emailChanges) await assertPassword(input.current_password, user.passwordHash);
  // numeric(12, 2) reads back as "25.00": compare in that form so an unchanged budget is no change.
  const budget =
    input.monthly_budget_usd === undefined || input.monthly_budget_usd === null
      ? input.monthly_budget_usd
      : input.monthly_budget_usd.toFixed(2);
  const budgetChanges = budget !== undefined && budget !== user.monthlyBudgetUsd;
  const changes = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(emailChanges ? { email, isVerified: false } : {}),
    ...(budgetChanges ? { monthlyBudgetUsd: budget } : {}),
  };
  if (Object.keys(changes).length === 0) return publicUser(user);
  try {
    const [updated] = await ctx.db.update(users).set(changes).where(eq(users.id, user.id)).returning();
    if (budgetChanges) await forgetCachedBudget(ctx, user.id);
    ctx.audit({
      action: "user.update",
      resourceType: "user",
      resourceId: user.id,
      details: {
        fields: [
          ...(input.name !== undefined ? ["name"] : []),
          ...(emailChanges ? ["email"] : []),
          ...(budgetChanges ? ["monthly_budget_usd"] : []),
        ],
      },
    });
    return publicUser(updated ?? user);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ApiError("EMAIL_TAKEN", "Another account uses this email.");
    throw error;
  }
};

/** Deletes the caller's account and everything it owns, after the password. */
export const deleteMe = async ({ ctx, input }: { ctx: ServiceContext; input: { password: string } }) => {
  const user = await callerRow(ctx);
  await assertPassword(input.password, user.passwordHash);
  await revokeAllSessions({ ctx, userId: user.id, reason: "account_deleted" });
  const keys = await ctx.db.select({ hash: apiKeys.keyHash }).from(apiKeys).where(eq(apiKeys.userId, user.id));
  await forgetApiKeys(
    ctx,
    keys.map((key) => key.hash),
  );
  await ctx.db.delete(users).where(eq(users.id, user.id));
  // The user row is gone, so the entry names the id in its details and carries no user reference.
  ctx.audit({ action: "user.delete", userId: null, resourceType: "user", resourceId: user.id });
};
