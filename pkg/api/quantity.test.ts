import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseQuantity,
  tryParseQuantity,
  formatQuantity,
  compareQuantities,
  addQuantities,
  roundUpQuantity,
  quantityMilliValue,
  quantityValue,
  canonicalQuantity,
  defaultResourceList,
  QuantityParseError,
  quantityFormatError,
} from './quantity.js';

const canon = (s: string | number) => formatQuantity(parseQuantity(s));

test('canonical forms match upstream', () => {
  const cases: [string | number, string][] = [
    ['100m', '100m'],
    ['0.5', '500m'],
    [0.5, '500m'],
    ['1', '1'],
    [1, '1'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['1.5', '1500m'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['1.5Gi', '1536Mi'],
    ['512', '512'],
    ['1Ki', '1Ki'],
    ['0.5Ki', '512'],
    ['1e3', '1e3'],
    ['1E3', '1e3'],
    ['1.5e3', '1500'],
    ['12e6', '12e6'],
    ['1k', '1k'],
    ['1.5k', '1500'],
    ['1000', '1k'],
    ['128974848', '128974848'],
    ['129e6', '129e6'],
    ['129M', '129M'],
    ['123Mi', '123Mi'],
    ['0', '0'],
    ['0Gi', '0'],
    ['-1', '-1'],
    ['-100m', '-100m'],
    ['+5', '5'],
    ['  2  ', '2'],
    ['1n', '1n'],
    ['0.0000000001', '1n'],
    ['5u', '5u'],
    ['1.', '1'],
  ];
  for (const [input, want] of cases) assert.equal(canon(input), want, `canonical of ${JSON.stringify(input)}`);
});

test('bad quantities are rejected with upstream texts', () => {
  for (const bad of ['', 'abc', '1.2.3', '1x', '1Kb', 'Ki', '1e', '--1', '1 Gi']) {
    assert.throws(() => parseQuantity(bad), QuantityParseError, bad);
  }
  assert.throws(() => parseQuantity('1.2.3'), { message: quantityFormatError });
  assert.throws(() => parseQuantity('1Mk'), { message: "unable to parse quantity's suffix" });
  assert.equal(tryParseQuantity('nope'), undefined);
  assert.equal(tryParseQuantity({}), undefined);
});

test('compare and add', () => {
  assert.equal(compareQuantities(parseQuantity('1'), parseQuantity('1000m')), 0);
  assert.equal(compareQuantities(parseQuantity('1Gi'), parseQuantity('1G')), 1);
  assert.equal(compareQuantities(parseQuantity('100m'), parseQuantity('0.2')), -1);
  assert.equal(compareQuantities(parseQuantity('1e3'), parseQuantity('1k')), 0);
  assert.equal(formatQuantity(addQuantities(parseQuantity('100m'), parseQuantity('900m'))), '1');
  assert.equal(formatQuantity(addQuantities(parseQuantity('1Gi'), parseQuantity('1Gi'))), '2Gi');
});

test('rounding and scaled values', () => {
  assert.equal(formatQuantity(roundUpQuantity(parseQuantity('0.0001'), -3)), '1m');
  assert.equal(formatQuantity(roundUpQuantity(parseQuantity('1.0001'), -3)), '1001m');
  assert.equal(quantityMilliValue(parseQuantity('1.5')), 1500n);
  assert.equal(quantityValue(parseQuantity('1.5')), 2n);
  assert.equal(quantityValue(parseQuantity('1Ki')), 1024n);
  assert.equal(canonicalQuantity('0.0001', true), '1m');
  assert.equal(canonicalQuantity('junk'), 'junk');
  const list: Record<string, unknown> = { cpu: 0.5, memory: '1024Mi', bad: 'x' };
  defaultResourceList(list);
  assert.deepEqual(list, { cpu: '500m', memory: '1Gi', bad: 'x' });
});

test('canonical forms are the same when remembered', () => {
  for (let round = 0; round < 2; round++) {
    assert.equal(canonicalQuantity('10m', true), '10m');
    assert.equal(canonicalQuantity('0.5', true), '500m');
    assert.equal(canonicalQuantity('1.0001', true), '1001m');
    assert.equal(canonicalQuantity('1.0001', false), '1000100u');
    assert.equal(canonicalQuantity('nonsense', true), 'nonsense');
    assert.equal(canonicalQuantity(2, true), '2');
  }
});
