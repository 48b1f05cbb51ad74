// npm run stack -- up|down|status [dev|test]
import { stackConfig } from "./config.mjs";
import { stackDown, stackUp } from "./index.mjs";

const [command = "status", profile = "dev"] = process.argv.slice(2);
if (!["dev", "test"].includes(profile)) {
  console.error(`unknown profile ${profile}: use dev or test`);
  process.exit(2);
}
try {
  if (command === "up") {
    const env = await stackUp(profile);
    console.log(JSON.stringify({ ...env, UPSTASH_REDIS_REST_TOKEN: "(see .dev.vars)" }, null, 2));
  } else if (command === "down") {
    console.log(JSON.stringify(await stackDown(profile)));
  } else if (command === "status") {
    console.log(
      JSON.stringify(stackConfig(profile), (key, value) => (key === "password" || key === "token" ? "…" : value), 2),
    );
  } else {
    console.error("usage: npm run stack -- up|down|status [dev|test]");
    process.exit(2);
  }
} catch (error) {
  console.error(`[stack] ${error.message}`);
  process.exit(1);
}
