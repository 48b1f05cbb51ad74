// Small process and network helpers for the local stack scripts.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";

export const isRoot = () => process.getuid?.() === 0;

/** The user the databases run as: ourselves, or `nobody` when we are root (initdb and postgres refuse root). */
export const serviceUser = () => (isRoot() ? "nobody" : null);

/** Runs a command, inheriting nothing but errors; returns its stdout. */
export const run = (command, args, options = {}) =>
  execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });

/** Runs a command as the service user (or as ourselves when we are not root). */
export const runAsService = (command, args, options = {}) => {
  const user = serviceUser();
  return user ? run("runuser", ["-u", user, "--", command, ...args], options) : run(command, args, options);
};

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export const isPortOpen = (port, host = "127.0.0.1") =>
  new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });

/** Waits until `probe` resolves true, or throws after `timeoutMs`. */
export const waitFor = async (what, probe, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
};

export const pidAlive = (pid) => {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
};

export const readPid = (file) => {
  if (!existsSync(file)) return null;
  const pid = Number.parseInt(readFileSync(file, "utf8").split("\n")[0] ?? "", 10);
  return Number.isInteger(pid) ? pid : null;
};

/** Starts a long-running process detached from us, logging to `logFile`, and records its pid. */
export const spawnDetached = (command, args, { logFile, pidFile, env = process.env }) => {
  const out = openSync(logFile, "a");
  const child = spawn(command, args, { detached: true, stdio: ["ignore", out, out], env });
  child.unref();
  writeFileSync(pidFile, `${child.pid}\n`);
  return child.pid;
};

/** Fetches JSON from a local URL, or null when nothing (or something else) answers. */
export const probeJson = async (url) => {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
    if (!response.ok) return null;
    return await response.json();
  } catch {
    return null;
  }
};

let aptUpdated = false;

/**
 * Installs Debian packages when a binary is missing. Needs root (or password-less sudo); says so otherwise.
 * @param {string[]} packages
 */
export const aptInstall = (packages) => {
  const sudo = isRoot() ? [] : ["sudo", "-n"];
  const apt = (args) => {
    const [command, ...rest] = [...sudo, "apt-get", ...args];
    execFileSync(command, rest, {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  };
  console.log(`[stack] installing ${packages.join(", ")} with apt-get (once)…`);
  try {
    if (!aptUpdated) {
      apt(["update", "-qq"]);
      aptUpdated = true;
    }
    apt(["install", "-y", "-qq", "--no-install-recommends", ...packages]);
  } catch (error) {
    throw new Error(
      `could not install ${packages.join(", ")} with apt-get (${error.message.split("\n")[0]}). ` +
        `Install them yourself (sudo apt-get install ${packages.join(" ")}) and run this again.`,
    );
  }
};

export const ensureDir = (dir, mode = 0o755) => mkdirSync(dir, { recursive: true, mode });
