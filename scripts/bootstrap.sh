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
