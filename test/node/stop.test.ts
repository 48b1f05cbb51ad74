import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stopApp } from "../../scripts/app-processes.mjs";

// `npm run stop` as it meets `npm start` run from a terminal: there the shell makes the job's first process
// (npm) the leader of a new process group, so start.mjs is not a group leader. `setsid sh -c '…; :'` builds
// the same shape (sh leads a new session and group, node runs below it; `; :` keeps sh from exec-ing node).
// The stand-in for start.mjs holds no port and keeps its state in a folder of this test's own.
const dir = mkdtempSync(join(tmpdir(), "ape-stop-test-"));
const pids: number[] = [];
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone, which is what the test wants.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Whether a process runs (a zombie, dead but not yet reaped by its parent, does not). */
const running = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
};

const groupOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
};

const waitFor = async (what: string, probe: () => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe("npm run stop", () => {
  it("stops the API and the web UI, and what they started, when npm start runs from a terminal", async () => {
    const state = join(dir, "ape-start.pid");
    const pidsFile = join(dir, "pids");
    const fixture = join(import.meta.dirname, "fixtures", "app-like.mjs");
    const terminal = spawn("setsid", ["sh", "-c", `"${process.execPath}" "${fixture}" "${state}" "${pidsFile}"; :`], {
      stdio: "ignore",
    });
    const lines = () => (existsSync(pidsFile) ? readFileSync(pidsFile, "utf8").trim().split("\n") : []);
    await waitFor("the stand-in's start", () => existsSync(state) && lines().length === 3);
    const all = lines().flatMap((line) => line.split(" ").map(Number));
    pids.push(...all);
    const starter = Number(JSON.parse(readFileSync(state, "utf8")).pid);
    expect(all).toHaveLength(5);
    expect(all.every(running)).toBe(true);
    // The shape a terminal gives: start.mjs is not its group's leader, so its pid names no group and the old
    // `process.kill(-pid)` could reach nothing.
    expect(groupOf(starter)).not.toBe(starter);
    expect(() => process.kill(-starter, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));

    const result = await stopApp(state, { graceMs: 5_000 });
    expect(result).toEqual({ running: true, killed: false });
    await waitFor("every process to end", () => all.every((pid) => !running(pid)), 5_000);
    expect(existsSync(state)).toBe(false);
    await waitFor("the terminal's shell to end", () => terminal.exitCode !== null, 5_000);
  });

  it("says nothing ran when nothing was started", async () => {
    expect(await stopApp(join(dir, "never-started.pid"))).toEqual({ running: false, killed: false });
  });
});
