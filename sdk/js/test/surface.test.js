// index.d.ts is hand-written: this keeps it and the code from drifting apart (every declared method and getter
// exists, and every public method is declared).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as sdk from "../index.js";

const declarations = readFileSync(new URL("../index.d.ts", import.meta.url), "utf8");

function declaredMembers(className) {
  const start = declarations.indexOf(`export class ${className}`);
  const body = declarations.slice(start, declarations.indexOf("\n}\n", start));
  return [...body.matchAll(/^ {2}(?:readonly )?(\w+)(?:<.*>)?[(:]/gm)].map((m) => m[1]).filter((n) => n !== "constructor");
}

test("every member index.d.ts declares exists, and every public method is declared", () => {
  for (const name of ["SwitchboardClient", "SwitchboardError", "IndexedDBStore", "MemoryStore"]) {
    assert.equal(typeof sdk[name], "function", name);
    const declared = declaredMembers(name);
    assert.ok(declared.length > 0, name);
    const instance = name === "SwitchboardError" ? new sdk.SwitchboardError("X", "y")
      : name === "SwitchboardClient" ? null : undefined;
    for (const member of declared) {
      const found = member in sdk[name].prototype || (instance && member in instance);
      assert.ok(found, `${name}.${member} is declared but missing`);
    }
    const implemented = Object.getOwnPropertyNames(sdk[name].prototype).filter((n) => n !== "constructor" && !n.startsWith("_"));
    for (const member of implemented) assert.ok(declared.includes(member), `${name}.${member} is not declared`);
  }
  assert.equal(sdk.default, sdk.SwitchboardClient);
});

test("every event the client emits is declared in ClientEvents", () => {
  const start = declarations.indexOf("export interface ClientEvents");
  const body = declarations.slice(start, declarations.indexOf("\n}\n", start));
  const declared = new Set([...body.matchAll(/^ {2}(\w+): \(/gm)].map((m) => m[1]));
  const source = ["client.js", "connection.js"].map((f) => readFileSync(new URL(`../src/${f}`, import.meta.url), "utf8")).join("\n");
  const emitted = new Set([...source.matchAll(/this\.emit\("(\w+)"/g)].map((m) => m[1]));
  assert.ok(emitted.size >= 10, [...emitted].join());
  for (const event of emitted) assert.ok(declared.has(event), `${event} is emitted but not declared`);
});
