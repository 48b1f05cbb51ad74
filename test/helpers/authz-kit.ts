/**
 * The authorisation kit: calls every protected route of the OpenAPI document with each kind of bad
 * credential, and with another user's valid token on the first user's resource ids, and collects what went
 * wrong. Modules add their routes' resource ids through `resources`.
 */
import { env } from "cloudflare:test";
import { SignJWT } from "jose";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "../../src/services/auth/access-tokens.js";
import { exampleOf, type JsonSchema, operationsOf } from "./fuzz.js";
import type { Harness } from "./harness.js";

type Document = Parameters<typeof operationsOf>[0];

import type { Operation } from "./fuzz.js";

/** A way of calling, and the statuses every protected route must answer it with (or a rule per route). */
export type Credential = {
  name: string;
  headers: Record<string, string>;
  expect: number[] | ((op: Operation) => number[]);
};

const base64url = (value: object) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** Access tokens that must all be refused, made the way an attacker would make them. */
export const forgedTokens = async (victim: { id: string; sessionId: string }) => {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: victim.id,
    sid: victim.sessionId,
    jti: crypto.randomUUID(),
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
  };
  const key = new TextEncoder().encode(env.JWT_SECRET);
  const otherKey = new TextEncoder().encode("another-secret-that-is-long-enough-to-sign-with");
  return {
    expired: await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt(now - 3600)
      .setExpirationTime(now - 1800)
      .sign(key),
    algNone: `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ ...claims, iat: now, exp: now + 600 })}.`,
    otherKey: await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(otherKey),
    otherAlgorithm: await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS512" })
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(key),
    wrongAudience: await new SignJWT({ ...claims, aud: "someone-else" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(key),
    wrongIssuer: await new SignJWT({ ...claims, iss: "someone-else" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(key),
    notYetValid: await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt()
      .setNotBefore(now + 3600)
      .setExpirationTime(now + 7200)
      .sign(key),
  };
};

/** The protected operations of the document: those that declare a security requirement. */
export const protectedOperations = (doc: Document) => {
  const secured = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item))
      if (op.security) secured.add(`${method.toUpperCase()} /api/v1${path}`);
  }
  return operationsOf(doc, "/api/v1").filter((op) => secured.has(`${op.method} ${op.path}`));
};

/**
 * The resource id for a path template: its own entry, else the entry of the longest template it extends
 * (`/chat/conversations/{id}` also serves `/chat/conversations/{id}/messages`), so a module's sub-routes need
 * no entry of their own.
 */
const resourceFor = (resources: Record<string, string>, path: string) =>
  resources[path] ??
  Object.entries(resources)
    .filter(([template]) => path.startsWith(`${template}/`))
    .sort(([a], [b]) => b.length - a.length)[0]?.[1];

/**
 * Calls every protected route with every credential; returns one line per surprise (empty when all is well).
 * `resources` maps a path template to the first user's resource id for its `{id}` (the routes under it use the
 * same id); `secrets` are strings that must never appear in any answer (the first user's email, ids, keys).
 */
export const runAuthorisationKit = async (options: {
  h: Harness;
  doc: Document;
  credentials: Credential[];
  resources: Record<string, string>;
  secrets: string[];
}) => {
  const surprises: string[] = [];
  // Signing out ends the session the next routes are called with, so it goes last.
  const operations = protectedOperations(options.doc).sort(
    (a, b) => Number(a.path.endsWith("/logout")) - Number(b.path.endsWith("/logout")),
  );
  for (const op of operations) {
    const resource = resourceFor(options.resources, op.path);
    const path = op.path.replace(/\{(\w+)\}/g, () => resource ?? "missing_resource");
    if (path.includes("missing_resource")) surprises.push(`${op.method} ${op.path}: the kit has no resource id for it`);
    const body = op.body ? JSON.stringify(exampleOf(options.doc, op.body.schema as JsonSchema)) : undefined;
    for (const credential of options.credentials) {
      const res = await options.h.request(path, {
        method: op.method,
        headers: { ...(body ? { "content-type": "application/json" } : {}), ...credential.headers },
        ...(body ? { body } : {}),
      });
      const text = await res.text();
      const expected = typeof credential.expect === "function" ? credential.expect(op) : credential.expect;
      if (!expected.includes(res.status)) {
        surprises.push(
          `${op.method} ${path} with ${credential.name}: ${res.status}, expected ${expected.join("/")}: ${text.slice(0, 160)}`,
        );
      }
      for (const secret of options.secrets) {
        if (text.includes(secret))
          surprises.push(`${op.method} ${path} with ${credential.name}: the answer leaks ${secret.slice(0, 12)}…`);
      }
    }
  }
  return { surprises, operations: operations.length };
};
