#!/usr/bin/env node
// Installs the project's npm packages when they are not installed as package-lock.json says: runs `npm ci` when
// node_modules is missing, was not completed by npm (no node_modules/.package-lock.json, which npm writes last), or
// is older than package-lock.json. Silent when there is nothing to do. Needs nothing but node and npm, so it runs
// on a fresh clone: `npm test` (pretest, precheck) and `npm run deploy` (scripts/dev/deploy.sh) call it first.
//
//   node scripts/dev/ensure-deps.mjs     exit 0: installed, or nothing to do; otherwise npm ci's exit code
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Why `npm ci` must run in `dir`, or undefined when node_modules matches package-lock.json. */
function installReason(dir) {
  const modules = path.join(dir, "node_modules");
  const stamp = path.join(modules, ".package-lock.json");
  const lock = path.join(dir, "package-lock.json");
  if (!existsSync(modules)) {
    return "node_modules is missing";
  }
  if (!existsSync(stamp)) {
    return "node_modules was not completed by npm (no node_modules/.package-lock.json)";
  }
  if (existsSync(lock) && statSync(lock).mtimeMs > statSync(stamp).mtimeMs) {
    return "package-lock.json is newer than node_modules";
  }
  return undefined;
}

const reason = installReason(root);
if (reason !== undefined) {
  process.stderr.write(`ensure-deps: ${reason}: running npm ci\n`);
  const run = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (run.error) {
    process.stderr.write(`ensure-deps: cannot run npm (${run.error.message}); install Node.js 20 with npm\n`);
    process.exit(1);
  }
  if (run.status !== 0) {
    process.stderr.write(`ensure-deps: npm ci failed (exit ${run.status ?? run.signal})\n`);
    process.exit(run.status ?? 1);
  }
}
