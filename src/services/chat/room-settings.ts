import type { Env } from "../../env.js";
import { checkEnv, type EnvCheck, type RawEnv } from "../../env.js";

/**
 * In production the room reads only its own bindings, as every Worker does. A test file, though, gives each
 * harness a database of its own and each test its own provider fakes, through the settings of the requests it
 * makes; a room (one Durable Object namespace for the whole run) would not see them. So, and only where both
 * the Worker and the room run with ENVIRONMENT=test, the Worker hands the room the settings it runs with, and
 * the room lays them over its bindings (keeping the last ones, for its alarm, in its storage).
 */
export const settingsForRoom = (env: Env): Record<string, string> | undefined => {
  if (env.ENVIRONMENT !== "test") return undefined;
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    // Bindings are objects and stay the room's own; settings go back to the text they were parsed from.
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      settings[name] = String(value);
    } else if (Array.isArray(value)) {
      settings[name] = value.join(",");
    }
  }
  return settings;
};

// Lives as long as the room's instance: test settings parsed once per distinct set.
const parsed = new Map<string, EnvCheck>();

/**
 * The room's environment: its bindings, with a test Worker's settings laid over them where the room itself
 * runs with ENVIRONMENT=test (and never anywhere else).
 * @example
 * const check = roomEnv(this.env, request.settings);
 */
export const roomEnv = (bindings: RawEnv, settings: Record<string, string> | undefined): EnvCheck => {
  if (!settings || bindings.ENVIRONMENT !== "test") return checkEnv(bindings);
  const key = JSON.stringify(settings);
  let check = parsed.get(key);
  if (!check) {
    check = checkEnv({ ...bindings, ...settings });
    if (parsed.size > 64) parsed.clear();
    parsed.set(key, check);
  }
  return check;
};
