import { handleQueueBatch } from "../workers/jobs/consumer.js";
import { runScheduled } from "../workers/scheduled.js";
import { buildApp } from "./app.js";
import type { RawEnv } from "./env.js";

export { ConversationRoom } from "./services/chat/conversation-room.js";

// Built once per isolate: routes are static, and per-request state lives in the context.
const { root } = buildApp();

export default {
  fetch: (request, env, ctx) => root.fetch(request, env, ctx),
  queue: (batch, env) => handleQueueBatch(batch, env),
  scheduled: (_controller, env, ctx) => ctx.waitUntil(runScheduled(env)),
} satisfies ExportedHandler<RawEnv>;
