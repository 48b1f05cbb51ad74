import { isValid, parse } from "date-fns";
import { z } from "zod";

import { type ColumnType, columnTypes } from "../../db/schema/extraction-jobs.js";

export { type ColumnType, columnTypes };

/** A column as validation sees it: its type and, for `enum`, the values it allows. */
export type ColumnSpec = { name: string; type: ColumnType; required?: boolean; values?: string[] };

/** A value after normalisation, or why it could not be read as its column's type. */
export type Normalised = { ok: true; value: string | number | boolean | null } | { ok: false; message: string };

// Written dates APE reads, tried in order after ISO 8601: dotted dates day first (`05.03.2024`, as in Europe),
// slashed ones month first (`03/05/2024`, as in the US), spelled-out months either way round.
const DATE_FORMATS = [
  "yyyy/MM/dd",
  "dd.MM.yyyy",
  "d.M.yyyy",
  "MM/dd/yyyy",
  "M/d/yyyy",
  "d MMMM yyyy",
  "d MMM yyyy",
  "MMMM d, yyyy",
  "MMM d, yyyy",
  "MMMM d yyyy",
  "MMM d yyyy",
  "yyyyMMdd",
] as const;

const REFERENCE_DATE = new Date(2000, 0, 1);
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");
const isoDateOf = (date: Date) => `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;

/** A written date as ISO 8601 (`2024-03-05`), or null. Ordinals ("5th March") are read too. */
export const parseDate = (text: string): string | null => {
  const cleaned = text.trim().replace(/(\d)(st|nd|rd|th)\b/gi, "$1");
  const iso = ISO_DATE.exec(cleaned);
  if (iso) {
    const date = new Date(Number(iso[1]), Number(iso[2]) - 1, Number(iso[3]));
    return isValid(date) && isoDateOf(date) === cleaned ? cleaned : null;
  }
  // A full ISO timestamp is a date too (its calendar day as written).
  const stamp = /^(\d{4}-\d{2}-\d{2})T/.exec(cleaned);
  if (stamp?.[1]) return parseDate(stamp[1]);
  for (const format of DATE_FORMATS) {
    const date = parse(cleaned, format, REFERENCE_DATE);
    if (isValid(date) && date.getFullYear() >= 1000) return isoDateOf(date);
  }
  return null;
};

/** A written date and time as ISO 8601 in UTC (`2024-03-05T14:30:00.000Z`), or null. A bare date is midnight UTC. */
export const parseDateTime = (text: string): string | null => {
  const cleaned = text.trim();
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(cleaned)) {
    const date = new Date(cleaned.includes(" ") ? cleaned.replace(" ", "T") : cleaned);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }
  const day = parseDate(cleaned);
  return day ? `${day}T00:00:00.000Z` : null;
};

const CURRENCY_SYMBOLS: Record<string, string> = { $: "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR" };

/**
 * A written number as a number: `1,234.5`, `1.234,5` (decimal comma), `1 234`, `(12)` (negative, as in
 * accounts), `12%` stays 12. Null when it is not one number.
 */
export const parseNumber = (text: string): number | null => {
  let s = text.trim().replace(/[\s\u00a0\u202f']/g, "");
  let negative = false;
  if (/^\(.*\)$/.test(s)) {
    negative = true;
    s = s.slice(1, -1);
  }
  s = s.replace(/%$/, "");
  if (/^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replaceAll(",", "");
  else if (/^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$/.test(s)) s = s.replaceAll(".", "").replace(",", ".");
  else if (/^[-+]?\d+,\d+$/.test(s)) s = s.replace(",", ".");
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return null;
  const value = Number(s);
  if (!Number.isFinite(value)) return null;
  return negative ? -value : value;
};

/** A written amount of money: its number and, when written, its currency (ISO 4217 code). */
export const parseCurrency = (text: string): { amount: number; currency: string | null } | null => {
  let s = text.trim();
  let currency: string | null = null;
  const code = /^([A-Z]{3})\s*|\s*([A-Z]{3})$/.exec(s);
  if (code) {
    currency = code[1] ?? code[2] ?? null;
    s = s.replace(code[0], "");
  }
  const symbol = Object.keys(CURRENCY_SYMBOLS).find((sign) => s.includes(sign));
  if (symbol) {
    currency ??= CURRENCY_SYMBOLS[symbol] ?? null;
    s = s.replace(symbol, "");
  }
  const amount = parseNumber(s.replace(/^-\s*/, "-"));
  return amount === null ? null : { amount: Math.round(amount * 100) / 100, currency };
};

const TRUE = new Set(["true", "yes", "y", "1", "t", "on", "✓", "x"]);
const FALSE = new Set(["false", "no", "n", "0", "f", "off"]);
const email = z.email();

const blank = (value: unknown) => value === null || value === undefined || (typeof value === "string" && !value.trim());

/**
 * A raw value (from a model or a cell) normalised to its column's type: ISO 8601 dates, parsed numbers and
 * amounts, checked URLs and emails, canonical enum values. Blank is null; the required rule decides about it.
 * @example
 * normaliseValue({ name: "price", type: "currency" }, "$1,299.00"); // { ok: true, value: 1299 }
 */
export const normaliseValue = (column: ColumnSpec, raw: unknown): Normalised => {
  if (blank(raw)) return { ok: true, value: null };
  const text = typeof raw === "string" ? raw.trim().replace(/\s+/g, " ") : String(raw);
  switch (column.type) {
    case "string":
      return { ok: true, value: typeof raw === "object" ? JSON.stringify(raw) : text };
    case "number": {
      const value = typeof raw === "number" ? raw : parseNumber(text);
      return value === null || !Number.isFinite(value)
        ? { ok: false, message: `"${text}" is not a number` }
        : { ok: true, value };
    }
    case "integer": {
      const value = typeof raw === "number" ? raw : parseNumber(text);
      if (value === null || !Number.isInteger(value)) return { ok: false, message: `"${text}" is not a whole number` };
      return { ok: true, value };
    }
    case "boolean": {
      if (typeof raw === "boolean") return { ok: true, value: raw };
      const lowered = text.toLowerCase();
      if (TRUE.has(lowered)) return { ok: true, value: true };
      if (FALSE.has(lowered)) return { ok: true, value: false };
      return { ok: false, message: `"${text}" is not yes or no` };
    }
    case "date": {
      const value = parseDate(text);
      return value ? { ok: true, value } : { ok: false, message: `"${text}" is not a date` };
    }
    case "datetime": {
      const value = parseDateTime(text);
      return value ? { ok: true, value } : { ok: false, message: `"${text}" is not a date and time` };
    }
    case "url": {
      try {
        const url = new URL(text);
        if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
        return { ok: true, value: url.href };
      } catch {
        return { ok: false, message: `"${text}" is not an http(s) URL` };
      }
    }
    case "email": {
      const lowered = text.toLowerCase();
      return email.safeParse(lowered).success
        ? { ok: true, value: lowered }
        : { ok: false, message: `"${text}" is not an email address` };
    }
    case "currency": {
      const value = typeof raw === "number" ? { amount: raw } : parseCurrency(text);
      return value ? { ok: true, value: value.amount } : { ok: false, message: `"${text}" is not an amount of money` };
    }
    case "enum": {
      const match = column.values?.find((allowed) => allowed.toLowerCase() === text.toLowerCase());
      return match !== undefined
        ? { ok: true, value: match }
        : { ok: false, message: `"${text}" is not one of ${(column.values ?? []).join(", ")}` };
    }
  }
};
