/**
 * Where APE keeps files in R2. Every key starts with the owner's prefix, so one user's objects can be listed or
 * removed without touching another's, and a key is never built from anything the caller chose.
 */

/** The prefix under which everything of one user lives. */
export const userPrefix = (userId: string) => `users/${userId}/`;

/** The key of an uploaded document's original bytes. */
export const documentObjectKey = (userId: string, documentId: string) => `${userPrefix(userId)}documents/${documentId}`;
