/** OpenAPI security requirements routes declare (the schemes are registered with the document). */
type SecurityRequirement = Record<string, string[]>;

/** A signed-in session's access token only (account and key management). */
export const sessionOnly: SecurityRequirement[] = [{ bearerAuth: [] }];

/** An access token, or an API key in either header. */
export const sessionOrApiKey: SecurityRequirement[] = [{ bearerAuth: [] }, { apiKey: [] }];
