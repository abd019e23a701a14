/**
 * A small typed event emitter. Listener exceptions are caught and reported as `error` (and an `error` listener
 * that throws is only logged), so one broken UI handler cannot stop the SDK's own bookkeeping: the message
 * after it must still be ordered, acknowledged and retried.
 */
export class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._listeners = new Map();
  }

  on(event, listener) {
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    let set = this._listeners.get(event);
    if (!set) this._listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off(event, listener) {
    this._listeners.get(event)?.delete(listener);
  }

  once(event, listener) {
    const wrapper = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  emit(event, ...args) {
    for (const listener of [...(this._listeners.get(event) || [])]) {
      try {
        listener(...args);
      } catch (err) {
        if (event === "error") console.error("switchboard: error listener threw", err);
        else this.emit("error", err);
      }
    }
  }
}
