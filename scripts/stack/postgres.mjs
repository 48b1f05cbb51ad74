// The stack's own PostgreSQL cluster: Debian's binaries, a data folder per profile, loopback only.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { aptInstall, ensureDir, isPortOpen, pidAlive, run, runAsService, serviceUser, waitFor } from "./util.mjs";

const findBinDir = () => {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : null;
};

const postmasterPid = (dataDir) => {
  const file = join(dataDir, "postmaster.pid");
  if (!existsSync(file)) return null;
  const [pid, , , port] = readFileSync(file, "utf8").split("\n");
  return { pid: Number(pid), port: Number(port) };
};

const chownToService = (path) => {
  const user = serviceUser();
  if (user) run("chown", ["-R", `${user}:`, path]);
};

/** Starts (or reuses) the profile's cluster and makes sure its database exists. */
export const ensurePostgres = async (cfg) => {
  const { port, dataDir, user, password, database } = cfg.postgres;
  let bin = findBinDir();
  if (!bin) {
    aptInstall(["postgresql"]);
    bin = findBinDir();
    if (!bin) throw new Error("postgresql was installed but no pg_ctl was found under /usr/lib/postgresql");
  }
  const running = postmasterPid(dataDir);
  const ours = running && running.port === port && pidAlive(running.pid);
  if (!ours && (await isPortOpen(port))) {
    throw new Error(
      `port ${port} (Postgres for the ${cfg.profile} stack) is taken by another program. Stop it, or stop the ` +
        "other APE stack with `npm run stop`.",
    );
  }
  if (!ours) {
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      rmSync(dataDir, { recursive: true, force: true });
      ensureDir(dataDir, 0o700);
      const pwfile = join(dataDir, "..", "pg-password");
      writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
      chownToService(dataDir);
      chownToService(pwfile);
      console.log(`[stack] creating the ${cfg.profile} Postgres cluster…`);
      runAsService(join(bin, "initdb"), [
        "-D",
        dataDir,
        "-U",
        user,
        `--pwfile=${pwfile}`,
        "-A",
        "scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
      ]);
      rmSync(pwfile, { force: true });
    }
    // Test data is thrown away after each run, so durability is traded for speed there.
    const fast = cfg.profile === "test" ? " -c fsync=off -c synchronous_commit=off -c full_page_writes=off" : "";
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dataDir} -c max_connections=200${fast}`;
    runAsService(join(bin, "pg_ctl"), ["-D", dataDir, "-l", join(dataDir, "server.log"), "-o", options, "-w", "start"]);
  }
  await waitFor(`Postgres on :${port}`, () => isPortOpen(port));
  const admin = new pg.Client({ host: "127.0.0.1", port, user, password, database: "postgres" });
  await admin.connect();
  try {
    const exists = await admin.query("select 1 from pg_database where datname = $1", [database]);
    if (exists.rowCount === 0) await admin.query(`create database "${database}"`);
  } finally {
    await admin.end();
  }
  return { reused: Boolean(ours) };
};

/** Stops the profile's cluster if it runs. */
export const stopPostgres = (cfg) => {
  const bin = findBinDir();
  const running = postmasterPid(cfg.postgres.dataDir);
  if (!bin || !running || !pidAlive(running.pid)) return false;
  runAsService(join(bin, "pg_ctl"), ["-D", cfg.postgres.dataDir, "-m", "fast", "-w", "stop"]);
  return true;
};
