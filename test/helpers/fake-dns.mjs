// A local DNS-over-HTTPS resolver speaking the JSON format of Cloudflare's and Google's public resolvers, so
// src/integrations/safe-fetch.ts can be pointed at it (FETCH_DNS_RESOLVER_URL) and tests decide what a name
// resolves to. A query is `GET /dns-query?name=<name>&type=<A|AAAA|CNAME|1|28|5>` with
// `accept: application/dns-json` (without it the answer is 400, as Cloudflare's resolver refuses it); the
// answer is `{ Status, TC, RD, RA, AD, CD, Question: [{ name, type }], Answer?: [{ name, type, TTL, data }] }`
// with `content-type: application/dns-json`. Status 0 is NOERROR, 3 NXDOMAIN, 2 SERVFAIL.
//
// As a recursive resolver does, a CNAME is followed: the answer holds each CNAME record of the chain and then
// the records of the asked type that the last name has. A name with no record at all is NXDOMAIN (so every
// name a test did not set up is unknown); a name with records, but none of the type asked, is NOERROR with no
// Answer. The last name of a CNAME chain that has no record gives NXDOMAIN with the chain in the Answer.
//
// Test-only routes, per scope (see fake-control.mjs; the resolver URL of a test is `${url}/s/<scope>/dns-query`):
//   POST /__fake/records   { name, type: "A" | "AAAA" | "CNAME", data, ttl? } adds a record;
//                          { name, status } makes every query for the name answer that Status (2: SERVFAIL)
//   GET  /__fake/requests  the queries received: [{ name, type, accept }]
//   POST /__fake/reset     forgets the scope's records and queries
import { createServer } from "node:http";
import { createFakeControl } from "./fake-control.mjs";

/** @typedef {{ name: string, type: "A" | "AAAA" | "CNAME", data: string, ttl?: number }} DnsRecord */
/** @typedef {{ name: string, type: string, accept: string | null }} ReceivedQuery */

const TYPES = /** @type {Record<string, number>} */ ({ A: 1, AAAA: 28, CNAME: 5 });
const NAMES = /** @type {Record<string, string>} */ ({ 1: "A", 28: "AAAA", 5: "CNAME" });
// A chain longer than this is a loop (real resolvers give up around here too).
const MAX_CHAIN = 16;

/** DNS names compare without case and without the root's trailing dot. @param {string} name */
const canonical = (name) => name.toLowerCase().replace(/\.$/, "");

/**
 * @param {{ port?: number }} [options]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export const startFakeDns = async ({ port = 0 } = {}) => {
  /** @type {ReturnType<typeof createFakeControl<{}, ReceivedQuery>>} */
  const control = createFakeControl();
  // Zones by scope state: the state object is the scope's identity, and lives as long as the fake.
  /** @type {WeakMap<object, { records: DnsRecord[], statuses: Map<string, number> }>} */
  const zones = new WeakMap();
  /** @param {object} state */
  const zoneOf = (state) => {
    const zone = zones.get(state) ?? { records: [], statuses: new Map() };
    zones.set(state, zone);
    return zone;
  };

  /** @param {import("node:http").ServerResponse} response @param {number} status @param {unknown} body */
  const json = (response, status, body, type = "application/json") =>
    response.writeHead(status, { "content-type": type }).end(JSON.stringify(body));

  const server = createServer(async (request, response) => {
    const { pathname, state } = control.route(request.url);
    const zone = zoneOf(state);
    let raw = "";
    try {
      raw = await control.read(request);
    } catch {
      return response.destroy();
    }
    if (pathname === "/__fake/records" && request.method === "POST") {
      /** @type {any} */
      let record = null;
      try {
        record = JSON.parse(raw);
      } catch {}
      if (typeof record?.name !== "string") return json(response, 400, { error: "name is required" });
      if (typeof record.status === "number") {
        zone.statuses.set(canonical(record.name), record.status);
        return response.writeHead(204).end();
      }
      if (!(record.type in TYPES) || typeof record.data !== "string") {
        return json(response, 400, { error: "type must be A, AAAA or CNAME, and data a string" });
      }
      zone.records.push({ name: canonical(record.name), type: record.type, data: record.data, ttl: record.ttl });
      return response.writeHead(204).end();
    }
    if (pathname === "/__fake/reset" && request.method === "POST") {
      zone.records.length = 0;
      zone.statuses.clear();
    }
    if (state.handleControl(pathname, request.method, raw, response)) return;

    if (pathname !== "/dns-query" || request.method !== "GET") return json(response, 404, { error: "not found" });
    const query = new URL(request.url ?? "/", "http://fake").searchParams;
    const name = query.get("name") ?? "";
    const asked = query.get("type") ?? "A";
    const type = NAMES[asked] ?? asked.toUpperCase();
    const accept = request.headers.accept ?? null;
    state.received.push({ name, type, accept });
    if (!accept?.includes("application/dns-json")) {
      return json(response, 400, { error: "accept: application/dns-json is required" });
    }
    if (!name || !(type in TYPES))
      return json(response, 400, { error: "name and a type (A, AAAA, CNAME) are required" });

    const question = [{ name, type: TYPES[type] }];
    /** @type {{ name: string, type: number, TTL: number, data: string }[]} */
    const answer = [];
    const record = (/** @type {DnsRecord} */ r) => ({
      name: r.name,
      type: TYPES[r.type] ?? 0,
      TTL: r.ttl ?? 300,
      data: r.data,
    });
    let current = canonical(name);
    let status = 0;
    for (let hops = 0; ; hops += 1) {
      const forced = zone.statuses.get(current);
      if (forced !== undefined) {
        status = forced;
        break;
      }
      const own = zone.records.filter((r) => r.name === current);
      if (own.length === 0) {
        status = 3;
        break;
      }
      const cname = own.find((r) => r.type === "CNAME");
      if (cname && type !== "CNAME" && hops < MAX_CHAIN) {
        answer.push(record(cname));
        current = canonical(cname.data);
        continue;
      }
      answer.push(...own.filter((r) => r.type === type).map(record));
      break;
    }
    json(
      response,
      200,
      {
        Status: status,
        TC: false,
        RD: true,
        RA: true,
        AD: false,
        CD: false,
        Question: question,
        ...(answer.length > 0 ? { Answer: answer } : {}),
      },
      "application/dns-json",
    );
  });
  return control.listen(server, port);
};
