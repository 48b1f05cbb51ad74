/**
 * A page of a list read with one row more than asked for: the rows to show, and `next_cursor` (the last shown
 * id) when that extra row says there are more.
 * @example
 * const rows = await db.select().from(documents).where(…).orderBy(desc(documents.id)).limit(limit + 1);
 * return cursorPage(rows, limit, publicDocument);
 */
export const cursorPage = <Row extends { id: string }, Item>(rows: Row[], limit: number, show: (row: Row) => Item) => {
  const page = rows.slice(0, limit);
  return { items: page.map(show), next_cursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
};
