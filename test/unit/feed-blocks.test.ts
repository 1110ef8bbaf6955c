import { itemLines, LineBlocks, type FeedBlock } from '../../server/feeds/feed-items';

/** Feeds `body` to a LineBlocks in the given chunk sizes (cycled) and returns every block. */
function blocksOf(body: Buffer, chunkSizes: number[], maxBytes = 1024, maxItems = 1000): FeedBlock[] {
  const blocks = new LineBlocks(maxBytes, maxItems);
  const out: FeedBlock[] = [];
  let at = 0;
  for (let i = 0; at < body.length; i++) {
    const size = chunkSizes[i % chunkSizes.length]!;
    out.push(...blocks.push(body.subarray(at, at + size)));
    at += size;
  }
  const last = blocks.end();
  if (last) out.push(last);
  expect(blocks.received).toBe(out.reduce((n, b) => n + b.itemCount, 0));
  return out;
}

/** The items of a run of blocks, with their indexes, as the feeds worker reads them. */
function itemsOf(blocks: FeedBlock[]): [number, string][] {
  return blocks.flatMap((b) => {
    const lines = itemLines(b.body);
    expect(lines).toHaveLength(b.itemCount);
    return lines.map((line, i): [number, string] => [b.firstIdx + i, line]);
  });
}

describe('LineBlocks', () => {
  const feed = Buffer.from(['{"a":1}', '', '   ', '{"b":2}\r', '\t', '{"c":"x y"}', '[1,2]', 'not json', '{"d":4}'].join('\n'));
  const expected: [number, string][] = [[0, '{"a":1}'], [1, '{"b":2}\r'], [2, '{"c":"x y"}'], [3, '[1,2]'], [4, 'not json'], [5, '{"d":4}']];

  it('when a feed arrives in chunks of any size, then blank lines are skipped and every other line is one item, in order', () => {
    for (const sizes of [[feed.length], [1], [2, 3], [7], [5, 1, 11]]) {
      expect(itemsOf(blocksOf(feed, sizes))).toEqual(expected);
    }
  });

  it('when blocks fill up, then each holds whole lines, numbered on from the last', () => {
    const byItems = blocksOf(feed, [4], 1024, 2);
    expect(byItems.map((b) => [b.firstIdx, b.itemCount])).toEqual([[0, 2], [2, 2], [4, 2]]);
    expect(itemsOf(byItems)).toEqual(expected);

    const byBytes = blocksOf(feed, [3], 10);
    expect(byBytes.length).toBeGreaterThan(3);
    for (const b of byBytes.slice(0, -1)) expect(b.body[b.body.length - 1]).toBe(0x0a);
    expect(itemsOf(byBytes)).toEqual(expected);
  });

  it('when the bytes are not valid text, then they are kept as they came and the line is still one item', () => {
    const odd = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0x00, 0xfe]), Buffer.from('"}\n{"b":2}\n')]);
    const blocks = blocksOf(odd, [3]);
    expect(Buffer.concat(blocks.map((b) => b.body)).equals(odd)).toBe(true);
    expect(itemsOf(blocks).map(([idx]) => idx)).toEqual([0, 1]);
  });

  it('when a feed is empty or all blank, then there is no block', () => {
    expect(blocksOf(Buffer.from(''), [1])).toEqual([]);
    expect(blocksOf(Buffer.from('\n \n\r\n\t'), [2])).toEqual([]);
  });
});
