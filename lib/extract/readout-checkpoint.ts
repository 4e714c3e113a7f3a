/**
 * The checkpoint of a story read-out prefill (lib/extract/story-readouts.ts): on a 2-core
 * machine one pass over 210 stories of a 0.5B model is about an hour, and a stop inside it lost
 * all of it. After every batch the finished stories' activations are appended to a binary file
 * and a JSON sidecar records how many are in it, where each was read and what the run was (a
 * hash of every story's tokens, the blocks, the read-outs, the batch size, the width), so a
 * rerun resumes from the next batch. The sidecar is written after the floats (by rename), so a
 * stop between the two leaves extra floats that the next open cuts off.
 *
 * Batches are the same on resume (they start at multiples of the batch size), so a resumed
 * read-out gives the same floats as one that never stopped.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { appendFile, open, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import type { Story } from './stories.js';
import type { StoryPositions, StoryReadout } from './story-readouts.js';

const FORMAT = 'emosteer-readout-checkpoint';

/** What a checkpoint belongs to. */
export interface ReadoutCheckpointKey {
  /** The stories read, in order. */
  stories: readonly Story[];
  /** Blocks read. */
  layers: readonly number[];
  /** Read-outs computed, in order. */
  readouts: readonly StoryReadout[];
  /** Stories per prefill batch. */
  batch: number;
  /** Width of the residual stream. */
  nEmbd: number;
}

interface Sidecar {
  format: typeof FORMAT;
  key: string;
  done: number;
  positions: (StoryPositions | null)[];
}

function keyOf(k: ReadoutCheckpointKey): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ layers: k.layers, readouts: k.readouts, batch: k.batch, nEmbd: k.nEmbd, n: k.stories.length }));
  for (const s of k.stories) {
    h.update(new Uint8Array(Int32Array.from(s.promptTokens).buffer));
    h.update('|');
    h.update(new Uint8Array(Int32Array.from(s.tokens).buffer));
    h.update('#');
  }
  return h.digest('hex');
}

/** A read-out's checkpoint: a float file and its JSON sidecar (`<file>.json`). */
export class ReadoutCheckpoint {
  private constructor(
    private readonly file: string,
    private readonly key: string,
    private readonly readouts: readonly StoryReadout[],
    private readonly storyFloats: number,
    private done: number,
    private saved: (StoryPositions | null)[],
    private restored: Float32Array | null,
  ) {}

  /**
   * Opens the checkpoint at `file`: the stories it holds when it belongs to `key`'s run, none
   * (and the old files removed) otherwise.
   */
  static async open(file: string, key: ReadoutCheckpointKey): Promise<ReadoutCheckpoint> {
    const id = keyOf(key);
    const storyFloats = key.readouts.length * key.layers.length * key.nEmbd;
    let sidecar: Sidecar | null = null;
    try {
      const parsed = JSON.parse(await readFile(`${file}.json`, 'utf8')) as Partial<Sidecar>;
      if (parsed.format === FORMAT && parsed.key === id && Number.isInteger(parsed.done) && Array.isArray(parsed.positions) && parsed.positions.length === parsed.done) sidecar = parsed as Sidecar;
    } catch {
      sidecar = null;
    }
    if (sidecar && sidecar.done > 0) {
      const bytes = sidecar.done * storyFloats * 4;
      const fh = await open(file, 'r').catch(() => null);
      if (fh) {
        try {
          const { size } = await fh.stat();
          if (size >= bytes) {
            const buf = new Float32Array(sidecar.done * storyFloats);
            await fh.read(new Uint8Array(buf.buffer), 0, bytes, 0);
            if (size > bytes) await truncate(file, bytes);
            return new ReadoutCheckpoint(file, id, key.readouts, storyFloats, sidecar.done, sidecar.positions, buf);
          }
        } finally {
          await fh.close();
        }
      }
    }
    await rm(file, { force: true });
    await rm(`${file}.json`, { force: true });
    return new ReadoutCheckpoint(file, id, key.readouts, storyFloats, 0, [], null);
  }

  /** Stories the checkpoint holds. */
  get stories(): number {
    return this.done;
  }

  /**
   * Puts the checkpoint's stories into a fresh read-out's outputs (one array per story and
   * read-out, and the positions) and returns how many there were: the story to resume at.
   */
  restore(out: Map<StoryReadout, Float32Array[]>, positions: (StoryPositions | null)[]): number {
    const r = this.restored;
    if (!r) return 0;
    const per = this.storyFloats / this.readouts.length;
    for (let k = 0; k < this.done; k++) {
      this.readouts.forEach((ro, i) => out.get(ro)!.push(r.slice((k * this.readouts.length + i) * per, (k * this.readouts.length + i + 1) * per)));
      positions.push(this.saved[k] ?? null);
    }
    this.restored = null;
    return this.done;
  }

  /** Appends the stories of `out` past those already kept, then records them in the sidecar. */
  async append(out: Map<StoryReadout, Float32Array[]>, positions: readonly (StoryPositions | null)[]): Promise<void> {
    const n = positions.length;
    if (n <= this.done) return;
    const buf = new Float32Array((n - this.done) * this.storyFloats);
    const per = this.storyFloats / this.readouts.length;
    for (let k = this.done; k < n; k++) {
      this.readouts.forEach((ro, i) => buf.set(out.get(ro)![k]!, ((k - this.done) * this.readouts.length + i) * per));
    }
    await appendFile(this.file, new Uint8Array(buf.buffer));
    this.done = n;
    this.saved = [...positions];
    const sidecar: Sidecar = { format: FORMAT, key: this.key, done: n, positions: this.saved };
    await writeFile(`${this.file}.json.next`, JSON.stringify(sidecar));
    await rename(`${this.file}.json.next`, `${this.file}.json`);
  }

  /** Removes the checkpoint (the read-out is done). */
  async remove(): Promise<void> {
    await rm(this.file, { force: true });
    await rm(`${this.file}.json`, { force: true });
  }
}
