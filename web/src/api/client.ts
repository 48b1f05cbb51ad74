// The typed API client: openapi-fetch over the generated schema (schema.d.ts, from /api/v1/openapi.json), with
// the session's access token attached and one silent refresh on a 401.
import createClient from "openapi-fetch";
import { apiOrigin, authFetch } from "../lib/session";
import type { components, paths } from "./schema";

/** The API's origin: /config.js at run time, else VITE_APE_API_URL at build time, else the local API. */
export const API_URL = apiOrigin();
export const API_BASE = `${API_URL}/api/v1`;

export const api = createClient<paths>({ baseUrl: API_BASE, fetch: authFetch });

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

/** A failure the API explained (problem+json), or one it could not (network, a body that is not JSON). */
export class ProblemError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
    readonly fieldErrors: { field?: string; message?: string }[] = [],
  ) {
    super(message);
  }
}

/** Turns whatever came back as an error into a ProblemError whose message people can read. */
export const toProblem = (error: unknown, status = 0): ProblemError => {
  if (error instanceof ProblemError) return error;
  if (error && typeof error === "object" && "detail" in error) {
    const p = error as Partial<Problem>;
    const fields = (p.errors ?? []) as { field?: string; message?: string }[];
    return new ProblemError(p.detail || p.title || "Something went wrong.", p.status ?? status, p.code, fields);
  }
  if (error instanceof TypeError) return new ProblemError("The API cannot be reached. Check your connection.", 0);
  if (error instanceof Error) return new ProblemError(error.message, status);
  return new ProblemError("Something went wrong.", status);
};

/** Awaits an openapi-fetch call and returns its data, or throws a ProblemError built from problem+json. */
export const unwrap = async <T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> => {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    throw toProblem(error);
  }
  if (result.error !== undefined || !result.response.ok) throw toProblem(result.error, result.response.status);
  return result.data as T;
};

/** Reads a failed raw Response (SSE, downloads, uploads) as a ProblemError. */
export const problemFromResponse = async (response: Response) => {
  const text = await response.text().catch(() => "");
  try {
    return toProblem(JSON.parse(text), response.status);
  } catch {
    return new ProblemError(text || `The API answered ${response.status}.`, response.status);
  }
};
