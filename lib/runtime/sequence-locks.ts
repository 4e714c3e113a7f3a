/**
 * Reservations of a context's sequences: a call that decodes sequence s (a generation, an
 * evaluation, a chat turn) holds s from start to end, so that no other call rewrites its KV
 * cells in between, while the context itself is taken only for each native step. Waiters are
 * served first come, first served; a waiter is never overtaken by a later one that wants any of
 * the same sequences, so nobody starves.
 * @internal
 */
interface Waiter {
  seqs: readonly number[];
  grant: () => void;
  fail: (e: Error) => void;
}

export class SequenceLocks {
  readonly #held = new Set<number>();
  #waiters: Waiter[] = [];
  #failure: Error | undefined;

  /** Resolves with a release function once every sequence in `seqs` is free for this caller. */
  acquire(seqs: readonly number[]): Promise<() => void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const release = this.#releaser(seqs);
      this.#waiters.push({ seqs, grant: () => resolve(release), fail: reject });
      this.#pump();
    });
  }

  /** Sequences held now. */
  get held(): ReadonlySet<number> { return this.#held; }

  /** Rejects every waiter and every later acquire with `err` (the context is going away). */
  failAll(err: Error): void {
    this.#failure = err;
    const w = this.#waiters;
    this.#waiters = [];
    for (const x of w) x.fail(err);
  }

  #releaser(seqs: readonly number[]): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const s of seqs) this.#held.delete(s);
      this.#pump();
    };
  }

  #pump(): void {
    const blocked = new Set<number>();
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.seqs.every((s) => !this.#held.has(s) && !blocked.has(s))) {
        for (const s of w.seqs) this.#held.add(s);
        w.grant();
      } else {
        for (const s of w.seqs) blocked.add(s);
        still.push(w);
      }
    }
    this.#waiters = still;
  }
}
