/**
 * Where the outbox and the per-session watermarks live. In a browser: IndexedDB, so a message queued before a
 * reload (or a crash, or a closed tab) is still there to be sent, with the same `client_msg_id`, by the next
 * page. Without IndexedDB (Node, a private window that refuses it): memory, lasting as long as the client.
 * One database per user, so two accounts on one browser never send each other's messages.
 */

export class MemoryStore {
  constructor() {
    this._outbox = new Map();
    this._watermarks = new Map();
  }

  async loadOutbox() {
    return [...this._outbox.values()].sort((a, b) => a.queued_at - b.queued_at);
  }

  async putOutbox(message) {
    this._outbox.set(message.client_msg_id, { ...message });
  }

  async deleteOutbox(clientMsgId) {
    this._outbox.delete(clientMsgId);
  }

  async loadWatermarks() {
    return Object.fromEntries(this._watermarks);
  }

  async putWatermark(sessionId, sequence) {
    this._watermarks.set(sessionId, sequence);
  }

  close() {}
}

const OUTBOX = "outbox";
const WATERMARKS = "watermarks";

/** Promise of an IDBRequest's result. */
const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

export class IndexedDBStore {
  /**
   * @param {IDBFactory} factory
   * @param {string} name the database's name
   */
  constructor(factory, name) {
    const request = factory.open(name, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: "client_msg_id" });
      if (!db.objectStoreNames.contains(WATERMARKS)) db.createObjectStore(WATERMARKS);
    };
    this._db = done(request);
  }

  /** One request in its own transaction; resolves when the transaction committed (durable, not just queued). */
  async _run(storeName, mode, operate) {
    const db = await this._db;
    const tx = db.transaction(storeName, mode);
    const result = done(operate(tx.objectStore(storeName)));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
    });
    return result;
  }

  async loadOutbox() {
    const rows = await this._run(OUTBOX, "readonly", (store) => store.getAll());
    return rows.sort((a, b) => a.queued_at - b.queued_at);
  }

  async putOutbox(message) {
    await this._run(OUTBOX, "readwrite", (store) => store.put(message));
  }

  async deleteOutbox(clientMsgId) {
    await this._run(OUTBOX, "readwrite", (store) => store.delete(clientMsgId));
  }

  async loadWatermarks() {
    const db = await this._db;
    const tx = db.transaction(WATERMARKS, "readonly");
    const store = tx.objectStore(WATERMARKS);
    const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
    return Object.fromEntries(keys.map((key, i) => [key, values[i]]));
  }

  async putWatermark(sessionId, sequence) {
    await this._run(WATERMARKS, "readwrite", (store) => store.put(sequence, sessionId));
  }

  close() {
    this._db.then((db) => db.close(), () => {});
  }
}

/** The store the options ask for: a given one, IndexedDB (given or global), else memory. */
export function openStore({ store, indexedDB, storageName = "switchboard", userId }) {
  if (store) return store;
  const factory = indexedDB === undefined ? globalThis.indexedDB : indexedDB;
  return factory ? new IndexedDBStore(factory, `${storageName}-${userId}`) : new MemoryStore();
}
