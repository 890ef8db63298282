import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorString } from '../api/field-errors.js';
import {
  boolPtrText,
  formatSelector,
  immutable,
  intOrPercentValue,
  layoutContainerCells,
  notMoreThan100Percent,
  selectorString,
  validateLabelSelector,
  validatePositiveIntOrPercent,
} from './workloads.js';

test('selectors print as labels.Selector.String(): sorted by key, set values sorted', () => {
  const ls = { matchLabels: { tier: 'web', app: 'x' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'gpu', operator: 'DoesNotExist' }, { key: 'b', operator: 'Exists' }] };
  assert.equal(selectorString(ls), 'app=x,b,env in (dev,prod),!gpu,tier=web');
  assert.equal(selectorString({}), '');
  assert.equal(selectorString(undefined), '');
  assert.equal(selectorString({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), undefined);
  assert.equal(formatSelector({}), '<none>');
  assert.equal(formatSelector({ matchLabels: { a: 'b' } }), 'a=b');
});

test('containers and images, comma-joined', () => {
  assert.deepEqual(layoutContainerCells([{ name: 'a', image: 'x:1' }, { name: 'b', image: 'y' }]), ['a,b', 'x:1,y']);
  assert.deepEqual(layoutContainerCells(undefined), ['', '']);
  assert.equal(boolPtrText(undefined), '<unset>');
  assert.equal(boolPtrText(true), 'True');
});

test('label selector validation', () => {
  const errs = validateLabelSelector(
    { matchLabels: { 'bad key!': 'v' }, matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }, { key: 'b', operator: 'Like', values: ['-x'] }] },
    'spec.selector',
  ).map(fieldErrorString);
  assert.equal(errs.length, 4);
  assert.match(errs[0]!, /^spec\.selector\.matchLabels: Invalid value: "bad key!": name part must consist of alphanumeric characters/);
  assert.equal(errs[1], "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
  assert.equal(errs[2], 'spec.selector.matchExpressions[1].operator: Invalid value: "Like": not a valid selector operator');
  assert.match(errs[3]!, /^spec\.selector\.matchExpressions\[1\]\.values\[0\]: Invalid value: "-x": a valid label must be/);
});

test('int-or-percent checks', () => {
  assert.deepEqual(validatePositiveIntOrPercent('10%', 'p'), []);
  assert.deepEqual(validatePositiveIntOrPercent(3, 'p'), []);
  assert.deepEqual(validatePositiveIntOrPercent(-3, 'p').map(fieldErrorString), ['p: Invalid value: -3: must be greater than or equal to 0']);
  assert.equal(intOrPercentValue('25%'), 25);
  assert.equal(intOrPercentValue('x'), 0);
  assert.equal(intOrPercentValue(4), 4);
  assert.deepEqual(notMoreThan100Percent('101%', 'p').map(fieldErrorString), ['p: Invalid value: "101%": must not be greater than 100%']);
  assert.deepEqual(notMoreThan100Percent(101, 'p'), []);
  assert.deepEqual(immutable({ a: 1 }, { a: 1 }, 'p'), []);
  assert.deepEqual(immutable('b', 'a', 'p').map(fieldErrorString), ['p: Invalid value: "b": field is immutable']);
});
