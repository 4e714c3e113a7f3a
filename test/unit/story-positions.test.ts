import { describe, expect, it } from 'vitest';
import { storyPositions } from '../../lib/extract/story-readouts.js';

describe('read-out positions of a generated story', () => {
  it('middle, last, and the punctuation token nearest the middle', () => {
    const pieces = ['Once', ' upon', ' a', ' time', ',', ' she', ' walked', ' home', '.', ' The', ' end'];
    const p = storyPositions(pieces);
    expect(p.middle).toBe(5);
    expect(p.last).toBe(10);
    // ',' at 4 is 1 away from the middle, '.' at 8 is 3 away.
    expect(p.punctuation).toBe(4);
  });

  it('a tie goes to the earlier token; no punctuation falls back to the middle', () => {
    expect(storyPositions(['a', '.', 'b', 'c', '!', 'd']).punctuation).toBe(4); // middle 3: '.' at 1 is 2 away, '!' at 4 is 1 away
    expect(storyPositions(['a', '.', 'b', '!', 'c']).punctuation).toBe(1); // middle 2: both 1 away -> earlier
    expect(storyPositions(['a', 'b', 'c']).punctuation).toBe(1);
    expect(storyPositions(['x']).middle).toBe(0);
    expect(() => storyPositions([])).toThrow(/no generated token/);
  });

  it('punctuation with trailing space counts, inner punctuation does not', () => {
    expect(storyPositions(['a', 'b', 'e.g', 'c', '. ', 'd']).punctuation).toBe(4);
  });
});
