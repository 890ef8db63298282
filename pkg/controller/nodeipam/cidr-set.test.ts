import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CIDRRangeNotAvailableError, CIDRSet } from './cidr-set.js';

test('hands out distinct /24s of the cluster CIDR, skipping the ones in use', () => {
  const s = new CIDRSet('10.244.0.0/16', 24);
  assert.equal(s.occupy('10.244.1.0/24'), true);
  assert.equal(s.allocateNext(), '10.244.0.0/24');
  assert.equal(s.allocateNext(), '10.244.2.0/24');
  assert.equal(s.usedCount(), 3);
});

test('rejects subnets that are not its own and runs out loudly', () => {
  const s = new CIDRSet('10.0.0.0/30', 31);
  assert.equal(s.occupy('192.168.0.0/31'), false);
  assert.equal(s.occupy('10.0.0.0/24'), false);
  assert.equal(s.allocateNext(), '10.0.0.0/31');
  assert.equal(s.allocateNext(), '10.0.0.2/31');
  assert.throws(() => s.allocateNext(), CIDRRangeNotAvailableError);
  s.release('10.0.0.0/31');
  assert.equal(s.allocateNext(), '10.0.0.0/31');
});

test('a mask size that does not fit the cluster CIDR is an error', () => {
  assert.throws(() => new CIDRSet('10.244.0.0/16', 8));
});
