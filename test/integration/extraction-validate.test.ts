import { beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await createHarness();
  token = (await h.signUp()).tokens.access_token;
});

const validate = (body: unknown) => h.request("/api/v1/extraction/validate", h.json("POST", body, h.bearer(token)));

describe("POST /extraction/validate", () => {
  it("answers each row normalised, the counts, and every broken rule", async () => {
    const res = await validate({
      rows: [
        { product: "Torque wrench", price: "$84.00", email: "Sales@Acme.example" },
        { product: "", price: "-3", email: "not-an-email" },
      ],
      schema: {
        columns: [
          { name: "product", type: "string", required: true },
          { name: "price", type: "currency" },
          { name: "email", type: "email" },
        ],
      },
      validation_rules: { price: { min: 0 } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      rows_total: number;
      rows_valid: number;
      rows_invalid: number;
      rows: Array<{ values: Record<string, unknown>; valid: boolean }>;
      errors: Array<{ row: number; column: string; rule: string }>;
    };
    expect(body).toMatchObject({ rows_total: 2, rows_valid: 1, rows_invalid: 1 });
    expect(body.rows[0]).toEqual({
      values: { product: "Torque wrench", price: 84, email: "sales@acme.example" },
      valid: true,
    });
    expect(body.errors.map((error) => [error.row, error.column, error.rule])).toEqual([
      [1, "product", "required"],
      [1, "price", "min"],
      [1, "email", "type"],
    ]);
  });

  it("refuses rules for columns that do not exist, bad patterns and enum columns without values", async () => {
    const columns = [{ name: "a", type: "string" }];
    for (const body of [
      { rows: [], schema: { columns }, validation_rules: { b: { min: 1 } } },
      { rows: [], schema: { columns }, validation_rules: { a: { pattern: "(" } } },
      { rows: [], schema: { columns: [{ name: "s", type: "enum" }] } },
      { rows: [], schema: { columns: [...columns, ...columns] } },
    ]) {
      const problem = await readProblem(await validate(body));
      expect(problem.status, JSON.stringify(body)).toBe(400);
      expect(problem.body.code).toBe("VALIDATION_FAILED");
    }
  });

  it("runs a user's pattern in linear time: a backtracking one answers, and a request beside it is not held up", async () => {
    // `^(a|a)*$` against 34 a's and a b is some 2^34 steps for a backtracking engine; RE2 takes a few dozen.
    const body = {
      rows: [{ code: `${"a".repeat(34)}b` }, { code: "aaaa" }],
      schema: { columns: [{ name: "code", type: "string" }] },
      validation_rules: { code: { pattern: "^(a|a)*$" } },
    };
    const [res, health] = await Promise.all([validate(body), h.request("/api/v1/health")]);
    expect(health.status).toBe(200);
    expect(res.status).toBe(200);
    const result = (await res.json()) as { rows_valid: number; errors: Array<{ row: number; rule: string }> };
    expect(result.rows_valid).toBe(1);
    expect(result.errors.map((error) => [error.row, error.rule])).toEqual([[0, "pattern"]]);
  });

  it("refuses, naming the field, a pattern that only a backtracking engine can run", async () => {
    for (const pattern of ["^(a)\\1$", "^(?=a)a", "(?<!x)y"]) {
      const problem = await readProblem(
        await validate({
          rows: [],
          schema: { columns: [{ name: "a", type: "string" }] },
          validation_rules: { a: { pattern } },
        }),
      );
      expect(problem.status, pattern).toBe(400);
      expect(problem.body.code).toBe("VALIDATION_FAILED");
      expect(problem.body.errors).toEqual([
        expect.objectContaining({ path: "body.validation_rules.a.pattern", message: expect.stringContaining("RE2") }),
      ]);
    }
  });
});
