import { DurableObject } from "cloudflare:workers";

/**
 * One per conversation: the turn lock, the context window and the buffer of a running turn's events, kept in
 * the object's own SQLite storage. The chat module fills in its methods; the class is declared now because
 * wrangler.toml's migration creates it as a SQLite-backed class, which cannot be changed later.
 */
export class ConversationRoom extends DurableObject {}
