import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerCache } from '../cache/cache.js';
import { Snapshot } from '../cache/snapshot.js';
import { FakeClock } from '../../controller/framework/clock.js';
import { makeNode, makePod, scoreEach, testHandle } from '../testing/fake.js';
import { calculatePriority, ImageLocality } from './image-locality.js';

const MB = 1024 * 1024;

test('images present on the node raise its score, scaled by spread', () => {
  const cache = new SchedulerCache(new FakeClock());
  cache.addNode(makeNode('has', { images: [{ names: ['example.com/big:1'], sizeBytes: 500 * MB }] }));
  cache.addNode(makeNode('hasnot'));
  const s = new Snapshot();
  s.update(cache);
  const nis = s.list();
  const scores = scoreEach(new ImageLocality(testHandle(nis)), makePod('p', { image: 'example.com/big:1' }), nis);
  // 500MB × (1 of 2 nodes) = 250MB, between 23MB and 1000MB.
  assert.equal(scores.has, calculatePriority(250 * MB, 1));
  assert.equal(scores.has, Math.trunc((100 * (250 * MB - 23 * MB)) / (977 * MB)));
  assert.equal(scores.hasnot, 0);
});

test('small images do not count; the threshold grows with the container count', () => {
  assert.equal(calculatePriority(10 * MB, 1), 0);
  assert.equal(calculatePriority(5000 * MB, 1), 100);
  assert.equal(calculatePriority(1000 * MB, 2), Math.trunc((100 * (1000 * MB - 23 * MB)) / (2000 * MB - 23 * MB)));
});
