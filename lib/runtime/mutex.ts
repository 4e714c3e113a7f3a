/**
 * A FIFO async mutex: each context runs one native operation at a time, and callers queue
 * instead of failing with CONTEXT_BUSY.
 * @internal
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Resolves with a release function once every earlier holder has released. */
  async lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const prev = this.#tail;
    this.#tail = prev.then(() => held);
    await prev;
    let done = false;
    return () => {
      if (!done) { done = true; release(); }
    };
  }

  /** Runs `fn` while holding the lock. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const release = await this.lock();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
