/**
 * @switchboard/client: Switchboard's SDK for browsers and Node (docs/sdk-js.md). Plain ESM; the declarations are
 * in index.d.ts. `socket.io-client` is imported by its bare name: Node resolves it from node_modules, a page
 * maps it to the browser ESM bundle with an import map.
 */
export { SwitchboardClient, SwitchboardClient as default } from "./src/client.js";
export { SwitchboardError } from "./src/errors.js";
export { IndexedDBStore, MemoryStore } from "./src/store.js";
