// index.d.ts is what TypeScript pages (and the widget's authors) code against: it must compile, strictly, and
// accept the SDK used as documented (test/types/usage.ts).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

test("index.d.ts compiles with a strict usage of every method and event", () => {
  const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
  const project = fileURLToPath(new URL("types/tsconfig.json", import.meta.url));
  let output = "";
  try {
    execFileSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  } catch (err) {
    output = `${err.stdout}${err.stderr}`;
  }
  assert.equal(output, "");
});
