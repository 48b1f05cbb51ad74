// The processes `npm start` runs (the API in wrangler dev, the web UI) and how `npm run stop` ends them.
//
// Each child is started as the leader of a process group of its own, and the state file records those groups
// with start.mjs's own pid. Signalling start.mjs's pid as a group (what stop used to do) only works when
// start.mjs happens to lead its group: started from a terminal it does not (the shell makes `npm` the job's
// leader, and `sh` and `node` sit below it), so the signal went nowhere. A group per child also reaches what
// the child starts in turn (wrangler's workerd).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

/**
 * Starts `command` as the leader of a new process group (its output still goes to this terminal).
 * @param {string} command
 * @param {string[]} args
 * @param {import("node:child_process").SpawnOptions} [options]
 */
export const spawnGroup = (command, args, options = {}) =>
  spawn(command, args, { stdio: ["ignore", "inherit", "inherit"], ...options, detached: true });

/**
 * Signals a whole process group; false when no such group is left.
 * @param {number} leader
 * @param {NodeJS.Signals | 0} signal
 */
export const signalGroup = (leader, signal) => {
  try {
    process.kill(-leader, signal);
    return true;
  } catch (error) {
    if (error.code === "ESRCH") return false;
    throw error;
  }
};

/**
 * Records who to stop: the starter's pid and the group of each child.
 * @param {string} file
 * @param {{ pid: number, groups: number[] }} state
 */
export const writeAppState = (file, state) => writeFileSync(file, `${JSON.stringify(state)}\n`);

const readAppState = (file) => {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, "utf8").trim();
  // An older start.mjs wrote its bare pid: that pid's group is all there is to try.
  if (/^\d+$/.test(text)) return { pid: Number(text), groups: [Number(text)] };
  const state = JSON.parse(text);
  return { pid: Number(state.pid), groups: (state.groups ?? []).map(Number).filter((pid) => pid > 0) };
};

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops what the state file names: SIGTERM to each child's group and to the starter, then, for whatever is
 * still there after `graceMs`, SIGKILL. Returns whether anything was running; errors other than "already
 * gone" are thrown, not swallowed.
 * @param {string} file
 * @param {{ graceMs?: number }} [options]
 * @returns {Promise<{ running: boolean, killed: boolean }>}
 */
export const stopApp = async (file, { graceMs = 10_000 } = {}) => {
  const state = readAppState(file);
  if (!state) return { running: false, killed: false };
  const groupsLeft = () => state.groups.filter((group) => signalGroup(group, 0));
  const running = groupsLeft().length > 0 || alive(state.pid);
  for (const group of state.groups) signalGroup(group, "SIGTERM");
  if (alive(state.pid)) process.kill(state.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (groupsLeft().length > 0 || alive(state.pid))) await sleep(100);
  let killed = false;
  for (const group of groupsLeft()) killed = signalGroup(group, "SIGKILL") || killed;
  if (alive(state.pid)) {
    process.kill(state.pid, "SIGKILL");
    killed = true;
  }
  rmSync(file, { force: true });
  return { running, killed };
};
