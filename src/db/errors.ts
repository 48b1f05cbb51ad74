const hasCode = (error: unknown, code: string): boolean => {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    if ((current as { code?: unknown }).code === code) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
};

/** Whether a database error is a unique-constraint violation (drizzle wraps the driver's error in `cause`). */
export const isUniqueViolation = (error: unknown): boolean => hasCode(error, "23505");

/** Whether a database error is a foreign-key violation (the row it points at is gone). */
export const isForeignKeyViolation = (error: unknown): boolean => hasCode(error, "23503");
