'use strict';

// A small event emitter for the editor's plugin host (the plugins run in
// a sandbox without Node's events module).

class Emitter {
  constructor() {
    this.listeners = new Map(); // event name -> array of listener functions
  }

  /** Call `listener` on every emit of `event`. Returns this, for chaining. */
  on(event, listener) {
    if (typeof listener !== 'function') {
      throw new TypeError('listener must be a function');
    }
    if (!this.listeners.has(event)) this.listeners.set(event, []);
    this.listeners.get(event).push(listener);
    return this;
  }

  /** Remove one registration of `listener` for `event` (the latest one). */
  off(event, listener) {
    const list = this.listeners.get(event);
    if (!list) return this;
    const i = list.lastIndexOf(listener);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(event);
    return this;
  }

  /**
   * Call the listeners of `event` with `args`, in the order they were added.
   * Listeners added or removed during the emit take effect from the next
   * emit. Returns whether there were any listeners.
   */
  emit(event, ...args) {
    const list = this.listeners.get(event);
    if (!list) return false;
    for (const listener of [...list]) {
      listener.apply(this, args);
    }
    return true;
  }

  listenerCount(event) {
    const list = this.listeners.get(event);
    return list ? list.length : 0;
  }
}

module.exports = { Emitter };
