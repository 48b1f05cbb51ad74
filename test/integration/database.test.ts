import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client.js";
import { conversations, users } from "../../src/db/schema/index.js";
import { createTestDatabase } from "../helpers/harness.js";

// The Worker's own path to Postgres: @neondatabase/serverless over a WebSocket, drizzle on top.
let url: string;
beforeAll(async () => {
  url = await createTestDatabase();
});

const withDb = async <T>(work: (db: ReturnType<typeof createDatabase>["db"]) => Promise<T>) => {
  const { db, close } = createDatabase(url);
  try {
    return await work(db);
  } finally {
    await close();
  }
};

describe("Postgres through the Neon driver and drizzle", () => {
  it("inserts and reads back a row with a prefixed id and timestamptz times", async () => {
    const [user] = await withDb((db) =>
      db.insert(users).values({ email: "ada@example.com", passwordHash: "x" }).returning(),
    );
    expect(user?.id).toMatch(/^usr_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(user?.createdAt).toBeInstanceOf(Date);
    const found = await withDb((db) => db.select().from(users).where(eq(users.email, "ada@example.com")));
    expect(found).toHaveLength(1);
    expect(found[0]?.isActive).toBe(true);
  });

  it("rolls a failed transaction back whole", async () => {
    await expect(
      withDb((db) =>
        db.transaction(async (tx) => {
          const [user] = await tx.insert(users).values({ email: "grace@example.com", passwordHash: "x" }).returning();
          await tx.insert(conversations).values({ userId: user!.id, title: "half-written" });
          throw new Error("boom");
        }),
      ),
    ).rejects.toThrow("boom");
    const left = await withDb((db) => db.select().from(users).where(eq(users.email, "grace@example.com")));
    expect(left).toHaveLength(0);
    const orphans = await withDb((db) =>
      db.select().from(conversations).where(eq(conversations.title, "half-written")),
    );
    expect(orphans).toHaveLength(0);
  });

  it("enforces the schema's constraints", async () => {
    await withDb((db) => db.insert(users).values({ email: "dup@example.com", passwordHash: "x" }));
    await expect(
      withDb((db) => db.insert(users).values({ email: "dup@example.com", passwordHash: "y" })),
    ).rejects.toThrow();
    await expect(
      withDb((db) => db.insert(users).values({ email: "Upper@Example.com", passwordHash: "y" })),
    ).rejects.toThrow();
  });
});
