import { and, eq, gt, isNull } from "drizzle-orm";
import { passwordResetTokens, users } from "../../db/schema/index.js";
import { createEmailSender } from "../../integrations/email/index.js";
import { randomToken, sha256Hex } from "../../lib/crypto.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { consumeAttempt, type GuardCheck, refundAttempt } from "./attempts.js";
import { decoyHash, hashPassword, isCommonPassword, verifyPassword } from "./passwords.js";
import { revokeAllSessions, revokeSession, startSession } from "./sessions.js";

/** Emails compare and store lower-cased and trimmed. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();

const RESET_TTL_MS = 30 * 60 * 1000;

/** A user as the API shows it. */
export const publicUser = (user: typeof users.$inferSelect) => ({
  id: user.id,
  email: user.email,
  name: user.name,
  is_verified: user.isVerified,
  monthly_budget_usd: user.monthlyBudgetUsd === null ? null : Number(user.monthlyBudgetUsd),
  created_at: user.createdAt.toISOString(),
  updated_at: user.updatedAt.toISOString(),
});

/** Refuses passwords on the common-passwords list (length is checked by the route's schema). */
export const assertPasswordAcceptable = (password: string) => {
  if (isCommonPassword(password)) {
    throw new ApiError("WEAK_PASSWORD", "This password is among the most common ones; choose another.", {
      extensions: { errors: [{ path: "body.password", message: "is a commonly used password" }] },
    });
  }
};

/**
 * Creates an account and signs it in.
 * @example
 * const { user, tokens } = await registerUser({ ctx, input: { email, password, name } });
 */
export const registerUser = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { email: string; password: string; name?: string | undefined };
}) => {
  assertPasswordAcceptable(input.password);
  const email = normaliseEmail(input.email);
  const passwordHash = await hashPassword(input.password);
  const [user] = await ctx.db
    .insert(users)
    // Sign-up is open and every model call spends the operator's keys: a new account starts with the
    // operator's budget, when one is set.
    .values({
      email,
      passwordHash,
      name: input.name ?? null,
      monthlyBudgetUsd: ctx.env.DEFAULT_MONTHLY_BUDGET_USD?.toFixed(2) ?? null,
    })
    .onConflictDoNothing({ target: users.email })
    .returning();
  if (!user) throw new ApiError("EMAIL_TAKEN", "An account with this email already exists; sign in instead.");
  ctx.audit({ action: "auth.register", userId: user.id, resourceType: "user", resourceId: user.id });
  return { user: publicUser(user), tokens: await startSession({ ctx, userId: user.id }) };
};

/**
 * Signs a user in. Unknown email and wrong password answer alike, after the same work (a decoy hash is
 * verified for unknown emails), and failures are counted per account and per IP: each attempt takes its place
 * in both counts before the password is checked, and a good password gives it back.
 */
export const loginUser = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { email: string; password: string };
}) => {
  const email = normaliseEmail(input.email);
  const guards: GuardCheck[] = [
    ["login:account", email],
    ["login:ip", ctx.client.ip],
  ];
  await consumeAttempt(ctx, guards);
  const [user] = await ctx.db.select().from(users).where(eq(users.email, email)).limit(1);
  const check = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash()));
  if (!user || !check.ok || !user.isActive) {
    ctx.audit({
      action: "auth.login_failed",
      userId: user?.id ?? null,
      details: { reason: user ? (user.isActive ? "wrong_password" : "inactive") : "unknown_email" },
    });
    throw new ApiError("INVALID_CREDENTIALS", "Email or password is wrong.");
  }
  ctx.defer(refundAttempt(ctx, guards));
  if (check.needsRehash) {
    await ctx.db
      .update(users)
      .set({ passwordHash: await hashPassword(input.password) })
      .where(eq(users.id, user.id));
  }
  ctx.audit({ action: "auth.login", userId: user.id, resourceType: "user", resourceId: user.id });
  return { user: publicUser(user), tokens: await startSession({ ctx, userId: user.id }) };
};

/** Ends the caller's session; its refresh tokens and access tokens stop working at once. */
export const logoutUser = async ({ ctx }: { ctx: ServiceContext }) => {
  const caller = ctx.caller;
  if (caller?.kind !== "session") throw new ApiError("UNAUTHENTICATED", "Log out needs a signed-in session.");
  await revokeSession({ ctx, sessionId: caller.sessionId, reason: "logout" });
  ctx.audit({ action: "auth.logout", resourceType: "session", resourceId: caller.sessionId });
};

/**
 * Mails a single-use reset link when the account exists; answers the same either way, so the route tells
 * nobody which emails have accounts.
 */
export const requestPasswordReset = async ({ ctx, input }: { ctx: ServiceContext; input: { email: string } }) => {
  const email = normaliseEmail(input.email);
  await consumeAttempt(ctx, [
    ["reset:account", email],
    ["reset:ip", ctx.client.ip],
  ]);
  const [user] = await ctx.db.select().from(users).where(eq(users.email, email)).limit(1);
  if (!user?.isActive) {
    ctx.audit({ action: "auth.password_reset_requested", userId: null, details: { known: false } });
    return;
  }
  const token = randomToken(32);
  await ctx.db.insert(passwordResetTokens).values({
    userId: user.id,
    tokenHash: await sha256Hex(token),
    expiresAt: new Date(Date.now() + RESET_TTL_MS),
  });
  const origin = ctx.env.WEB_ORIGINS[0] ?? "";
  const link = `${origin}/reset-password?token=${encodeURIComponent(token)}`;
  // Sent after the response: a slow or failing mail provider must neither delay the answer nor change it,
  // or the answer would tell which emails have accounts. A failure is logged (without the token).
  const send = async () =>
    createEmailSender({ env: ctx.env, redis: ctx.redis, log: ctx.log }).send({
      to: user.email,
      kind: "password_reset",
      subject: "Reset your APE password",
      text: [
        "Someone (hopefully you) asked to reset the password of your APE account.",
        "",
        `Open this link within 30 minutes to choose a new password: ${link}`,
        `Or send this token to POST /api/v1/auth/reset-password: ${token}`,
        "",
        "If it was not you, ignore this mail; your password stays as it is.",
      ].join("\n"),
    });
  ctx.defer(
    send().catch((error: unknown) => {
      ctx.log.error("password reset mail not sent", { userId: user.id, error: String(error) });
    }),
  );
  ctx.audit({ action: "auth.password_reset_requested", userId: user.id, resourceType: "user", resourceId: user.id });
};

/** Sets a new password with a reset token, once, and ends every session of the account. */
export const resetPassword = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { token: string; password: string };
}) => {
  assertPasswordAcceptable(input.password);
  const tokenHash = await sha256Hex(input.token);
  const passwordHash = await hashPassword(input.password);
  const userId = await ctx.db.transaction(async (tx) => {
    const [used] = await tx
      .update(passwordResetTokens)
      .set({ usedAt: new Date() })
      .where(
        and(
          eq(passwordResetTokens.tokenHash, tokenHash),
          isNull(passwordResetTokens.usedAt),
          gt(passwordResetTokens.expiresAt, new Date()),
        ),
      )
      .returning({ userId: passwordResetTokens.userId });
    if (!used) return null;
    await tx.update(users).set({ passwordHash }).where(eq(users.id, used.userId));
    return used.userId;
  });
  if (!userId) throw new ApiError("INVALID_RESET_TOKEN", "Ask for a new reset link.");
  const ended = await revokeAllSessions({ ctx, userId, reason: "password_reset" });
  ctx.audit({
    action: "auth.password_reset",
    userId,
    resourceType: "user",
    resourceId: userId,
    details: { sessionsEnded: ended },
  });
};
