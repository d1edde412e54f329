import { describe, expect, it } from 'vitest';
import { streams, TimeWindows } from '../../lambda/streams';
import { drive, prng, streamsFixture } from './streams-harness';

describe('smoke', () => {
  it('runs', async () => {
    const f = await streamsFixture('smoke');
    await f.createTopic('in', 2);
    await f.createTopic('out', 2);
    await f.createTopic('counts', 2);
    const app = streams('smoke');
    const s = app.stream<{ n: number; k: string }>('in');
    s.filter((v) => v.n % 2 === 0).mapValues((v) => ({ ...v, doubled: v.n * 2 })).to('out');
    s.groupBy((v) => v.k).windowedBy(TimeWindows.ofSize(60_000)).count().toStream().to('counts');
    await f.produce('in', Array.from({ length: 50 }, (_, i) => ({ key: `u${i % 7}`, value: { n: i, k: `k${i % 3}` }, timestamp: Date.now() - 3_600_000 + i * 1000 })));
    const runtime = f.runtime(app);
    const counts = await drive(f, runtime, ['in', 'smoke-repartition-0'], { random: prng(1) });
    console.log(counts);
    const out = await f.readAll('out');
    expect(out.length).toBe(25);
    const c = await f.readAll('counts');
    console.log(c.length, c.slice(0, 3));
  });
});
