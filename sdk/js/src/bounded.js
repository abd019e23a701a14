/**
 * A set that forgets its oldest members beyond a size: the SDK remembers ids (seen, rendered, received from
 * others) for as long as repeats of them can plausibly come, not for the life of a page open for weeks.
 */
export class BoundedSet {
  constructor(max = 20_000) {
    this.max = max;
    this._items = new Set(); // insertion order = age
  }

  has(item) {
    return this._items.has(item);
  }

  /** Adds (or refreshes) an item; the oldest goes when the set is full. */
  add(item) {
    this._items.delete(item);
    this._items.add(item);
    if (this._items.size > this.max) this._items.delete(this._items.values().next().value);
  }

  get size() {
    return this._items.size;
  }
}
