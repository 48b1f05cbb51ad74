// The bindings tests read from `cloudflare:test`'s env: wrangler.toml's plus those vitest.config.ts injects.
declare namespace Cloudflare {
  interface Env {
    ENVIRONMENT: string;
    DATABASE_URL: string;
    UPSTASH_REDIS_REST_URL: string;
    UPSTASH_REDIS_REST_TOKEN: string;
    JWT_SECRET: string;
    WEB_ORIGINS: string;
    FILES: R2Bucket;
    CONVERSATION_ROOM: DurableObjectNamespace;
    EXTRACTION_QUEUE: Queue;
    RESEARCH_QUEUE: Queue;
    DOCUMENTS_QUEUE: Queue;
    WEBHOOKS_QUEUE: Queue;
  }
}
