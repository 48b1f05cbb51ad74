import { and, desc, eq, isNull, lt } from "drizzle-orm";
import { apiKeys } from "../../db/schema/index.js";
import { randomBase62, sha256Hex } from "../../lib/crypto.js";
import { ApiError } from "../../lib/errors.js";
import { recordCredentialFailure, reserveCredentialCheck } from "../auth/credential-failures.js";
import { type ApiKeyScope, type Caller, requireUser, type ServiceContext } from "../context.js";

/** Keys look like `ape_` + 43 base62 characters (32 random bytes); the first 12 characters are the prefix. */
export const API_KEY_PREFIX = "ape_";
const VISIBLE_PREFIX_LENGTH = 12;
const LAST_USED_EVERY_SECONDS = 60;
// A key's owner, scopes and state are kept in Redis for a minute, so a call with an API key needs no
// database round trip; revoking a key or deleting its user removes the entry at once.
const KEY_CACHE_SECONDS = 60;
// A key that is not in the database is remembered as unknown for a while, so the same made-up key sent again
// and again costs Redis, not Postgres. Keys are 32 random bytes: a key made later never has a cached hash.
const UNKNOWN_KEY_CACHE_SECONDS = 30;

type CachedKey = { id: string; userId: string; scopes: ApiKeyScope[]; revoked: boolean; expiresAt: number | null };

const keyCacheKey = (hash: string) => `apikey:auth:${hash}`;

const readCachedKey = async (ctx: ServiceContext, hash: string) => {
  try {
    return await ctx.redis.get<CachedKey>(keyCacheKey(hash));
  } catch (error) {
    ctx.log.warn("api key cache unavailable", { error });
    return null;
  }
};

/**
 * Marks keys revoked in the lookup cache, after a revocation or when their user is deleted: a tombstone, not a
 * delete, so a lookup that read the row just before cannot put the key back as valid (cache writes never
 * replace an entry).
 */
export const forgetApiKeys = async (ctx: ServiceContext, hashes: string[]) => {
  const tombstone: CachedKey = { id: "", userId: "", scopes: [], revoked: true, expiresAt: null };
  await Promise.all(hashes.map((hash) => ctx.redis.set(keyCacheKey(hash), tombstone, { ex: KEY_CACHE_SECONDS * 2 })));
};

/** An API key as lists show it: never the key, never its hash. */
export const publicApiKey = (key: typeof apiKeys.$inferSelect) => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  scopes: key.scopes as ApiKeyScope[],
  last_used_at: key.lastUsedAt?.toISOString() ?? null,
  expires_at: key.expiresAt?.toISOString() ?? null,
  revoked_at: key.revokedAt?.toISOString() ?? null,
  created_at: key.createdAt.toISOString(),
});

/**
 * Creates a key for the caller; the answer is the only time the key itself is shown.
 * @example
 * const { key } = await createApiKey({ ctx, input: { name: "ci", scopes: ["read"] } });
 */
export const createApiKey = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { name: string; scopes: ApiKeyScope[]; expires_at?: string | undefined };
}) => {
  const userId = requireUser(ctx);
  const key = `${API_KEY_PREFIX}${randomBase62(32)}`;
  const [row] = await ctx.db
    .insert(apiKeys)
    .values({
      userId,
      name: input.name,
      scopes: [...new Set(input.scopes)],
      keyHash: await sha256Hex(key),
      prefix: key.slice(0, VISIBLE_PREFIX_LENGTH),
      expiresAt: input.expires_at ? new Date(input.expires_at) : null,
    })
    .returning();
  if (!row) throw new Error("api key insert returned nothing");
  ctx.audit({ action: "api_key.create", resourceType: "api_key", resourceId: row.id, details: { scopes: row.scopes } });
  return { ...publicApiKey(row), key };
};

/** The caller's keys, newest first, cursor-paginated. */
export const listApiKeys = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { limit: number; cursor?: string | undefined };
}) => {
  const userId = requireUser(ctx);
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, userId), input.cursor ? lt(apiKeys.id, input.cursor) : undefined))
    .orderBy(desc(apiKeys.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return { items: page.map(publicApiKey), next_cursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
};

/** Revokes one of the caller's keys; someone else's key answers not found. */
export const revokeApiKey = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const userId = requireUser(ctx);
  const [row] = await ctx.db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .returning();
  if (!row) {
    const [existing] = await ctx.db
      .select({ id: apiKeys.id, keyHash: apiKeys.keyHash })
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId)));
    if (!existing) throw new ApiError("NOT_FOUND", `No API key ${id}.`);
    // Already revoked: revoking again changes nothing, but makes sure no cached lookup outlives it.
    await forgetApiKeys(ctx, [existing.keyHash]);
    return;
  }
  await forgetApiKeys(ctx, [row.keyHash]);
  ctx.audit({ action: "api_key.revoke", resourceType: "api_key", resourceId: row.id });
};

/**
 * Resolves a presented key to its caller, or null when it is unknown, revoked or expired. Marks it used at
 * most once a minute, after the response. Every bad key counts against the caller's IP
 * ({@link reserveCredentialCheck}): a key that must be looked up in the database takes its place in that
 * count first, so past the limit the answer is 429 before any query; unknown keys are cached as unknown.
 */
export const authenticateApiKey = async ({
  ctx,
  key,
}: {
  ctx: ServiceContext;
  key: string;
}): Promise<Caller | null> => {
  if (!key.startsWith(API_KEY_PREFIX)) {
    await recordCredentialFailure(ctx);
    return null;
  }
  const hash = await sha256Hex(key);
  let row = await readCachedKey(ctx, hash);
  let check: Awaited<ReturnType<typeof reserveCredentialCheck>> | null = null;
  if (!row) {
    check = await reserveCredentialCheck(ctx);
    const [found] = await ctx.db.select().from(apiKeys).where(eq(apiKeys.keyHash, hash)).limit(1);
    if (!found) {
      const unknown: CachedKey = { id: "", userId: "", scopes: [], revoked: true, expiresAt: null };
      ctx.defer(ctx.redis.set(keyCacheKey(hash), unknown, { ex: UNKNOWN_KEY_CACHE_SECONDS, nx: true }));
      return null;
    }
    row = {
      id: found.id,
      userId: found.userId,
      scopes: found.scopes as ApiKeyScope[],
      revoked: found.revokedAt !== null,
      expiresAt: found.expiresAt?.getTime() ?? null,
    };
    ctx.defer(ctx.redis.set(keyCacheKey(hash), row, { ex: KEY_CACHE_SECONDS, nx: true }));
  }
  if (row.revoked || (row.expiresAt !== null && row.expiresAt <= Date.now())) {
    // A looked-up key already counted when it took its place; a cached one counts now.
    if (!check) await recordCredentialFailure(ctx);
    return null;
  }
  check?.release();
  const { id } = row;
  ctx.defer(
    (async () => {
      const first = await ctx.redis.set(`apikey:used:${id}`, 1, { nx: true, ex: LAST_USED_EVERY_SECONDS });
      if (first === "OK") await ctx.db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, id));
    })(),
  );
  return { kind: "api_key", userId: row.userId, apiKeyId: row.id, scopes: row.scopes as ApiKeyScope[] };
};
