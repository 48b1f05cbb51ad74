#!/bin/sh
# First step of `npm start`, `npm test` and `npm run stop`: install the project's npm packages when they are
# missing or older than the lock file, so a fresh clone needs no `npm install` first. Runs under whatever Node
# npm started with; after it, node_modules/.bin (first on every npm script's PATH) holds Node 22.
set -e
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.json
if [ ! -x node_modules/.bin/node ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "[bootstrap] installing npm packages (npm ci)…"
  npm ci --no-audit --no-fund --loglevel=error
fi
# The web UI has its own packages (web/package.json) and is served from its build (web/dist). Both steps are
# skipped when nothing changed, so a machine that has installed once starts offline.
wstamp=web/node_modules/.package-lock.json
if [ ! -f "$wstamp" ] || [ web/package-lock.json -nt "$wstamp" ] || [ web/package.json -nt "$wstamp" ]; then
  echo "[bootstrap] installing the web UI's npm packages (npm ci --prefix web)…"
  npm ci --prefix web --no-audit --no-fund --loglevel=error
fi
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/public web/index.html web/vite.config.ts web/security-headers.mjs web/package-lock.json -newer web/dist/index.html 2>/dev/null | head -n 1)" ]; then
  echo "[bootstrap] building the web UI (vite build)…"
  npm run build --prefix web --silent >/dev/null
fi
