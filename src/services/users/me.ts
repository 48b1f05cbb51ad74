import { eq } from "drizzle-orm";
import { isUniqueViolation } from "../../db/errors.js";
import { users } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import { normaliseEmail, publicUser } from "../auth/accounts.js";
import { verifyPassword } from "../auth/passwords.js";
import { revokeAllSessions } from "../auth/sessions.js";
import type { ServiceContext } from "../context.js";

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

/** The caller's account. */
export const getMe = async ({ ctx }: { ctx: ServiceContext }) => publicUser(await callerRow(ctx));

/**
 * Changes the caller's name and/or email; a new email needs the current password.
 * @example
 * await updateMe({ ctx, input: { name: "Ada" } });
 */
export const updateMe = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { name?: string | null | undefined; email?: string | undefined; current_password?: string | undefined };
}) => {
  const user = await callerRow(ctx);
  const email = input.email === undefined ? undefined : normaliseEmail(input.email);
  const emailChanges = email !== undefined && email !== user.email;
  if (emailChanges) await assertPassword(input.current_password, user.passwordHash);
  const changes = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(emailChanges ? { email, isVerified: false } : {}),
  };
  if (Object.keys(changes).length === 0) return publicUser(user);
  try {
    const [updated] = await ctx.db.update(users).set(changes).where(eq(users.id, user.id)).returning();
    ctx.audit({
      action: "user.update",
      resourceType: "user",
      resourceId: user.id,
      details: { fields: Object.keys(changes).filter((field) => field !== "isVerified") },
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
  await ctx.db.delete(users).where(eq(users.id, user.id));
  // The user row is gone, so the entry names the id in its details and carries no user reference.
  ctx.audit({ action: "user.delete", userId: null, resourceType: "user", resourceId: user.id });
};
