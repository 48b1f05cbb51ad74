/**
 * Settings that pass APE's production checks (src/config/production-safety.ts), for tests that run a request
 * as production would: SES mail (pointed at the local fake, never sent anywhere), a public https origin, no
 * FETCH_ALLOW_HOSTS, and a webhook secrets key of its own. Add overrides on top to make one of them unsafe.
 */
export const productionEnv = (sesEndpoint: string, overrides: Record<string, unknown> = {}) => ({
  ENVIRONMENT: "production",
  EMAIL_PROVIDER: "ses",
  EMAIL_FROM: "APE <no-reply@example.com>",
  SES_ENDPOINT: sesEndpoint,
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIATESTTESTTESTTEST",
  AWS_SECRET_ACCESS_KEY: "test-secret-access-key-for-the-fake",
  WEB_ORIGINS: "https://app.example.com",
  FETCH_ALLOW_HOSTS: "",
  WEBHOOK_SECRETS_KEY: `production-test-${crypto.randomUUID()}`,
  ...overrides,
});
