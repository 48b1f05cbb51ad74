// Reads and writes .dev.vars, the file wrangler dev takes secrets from.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";

export const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const examplePath = join(root, ".dev.vars.example");
export const devVarsPath = join(root, ".dev.vars");

/** Every setting APE knows: the names in .dev.vars.example, commented or not, and wrangler.toml's [vars]. */
export const knownSettings = () => {
  const names = new Set();
  for (const line of readFileSync(examplePath, "utf8").split("\n")) {
    const match = /^#?\s*([A-Z][A-Z0-9_]+)=/.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return [...names];
};

/**
 * Creates .dev.vars from the example on first run, with the given values filled in where the example leaves
 * them empty and a fresh JWT_SECRET and WEBHOOK_SECRETS_KEY; an existing file is left alone.
 * @param {Record<string, string>} fill
 */
export const ensureDevVars = (fill) => {
  if (existsSync(devVarsPath)) return false;
  const values = {
    ...fill,
    JWT_SECRET: randomBytes(48).toString("base64url"),
    WEBHOOK_SECRETS_KEY: randomBytes(48).toString("base64url"),
  };
  const text = readFileSync(examplePath, "utf8").replace(/^([A-Z][A-Z0-9_]+)=$/gm, (line, name) =>
    values[name] ? `${name}=${values[name]}` : line,
  );
  writeFileSync(devVarsPath, text, { mode: 0o600 });
  return true;
};

/** The settings in effect: .dev.vars, then any known setting exported in the shell on top. */
export const effectiveSettings = () => {
  const fromFile = existsSync(devVarsPath) ? parseEnv(readFileSync(devVarsPath, "utf8")) : {};
  const fromShell = Object.fromEntries(
    knownSettings()
      .filter((name) => process.env[name] !== undefined)
      .map((name) => [name, process.env[name]]),
  );
  return Object.fromEntries(Object.entries({ ...fromFile, ...fromShell }).filter(([, value]) => value !== ""));
};
