import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';
import { builtinResources } from '../registry/resources.js';
import { fieldErrorString } from '../api/field-errors.js';
import { boolPtrText, formatSelector, layoutContainerCells, selectorString } from './workloads.js';
import { immutable, intOrPercentValue, notMoreThan100Percent, validateLabelSelector, validatePositiveIntOrPercent } from '../api/validation.js';
import { guarded } from '../registry/guarded.js';

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

const now = new Date('2024-01-01T00:00:00Z');


test('every non-core strategy survives malformed objects', () => {
  const groups = ['apps', 'batch', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'networking.k8s.io', 'scheduling.k8s.io', 'autoscaling', 'storage.k8s.io', 'apiextensions.k8s.io'];
  const mine = ['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'controllerrevisions', 'jobs', 'cronjobs', 'leases', 'endpointslices', 'events', 'poddisruptionbudgets', 'roles', 'rolebindings', 'clusterroles', 'clusterrolebindings', 'ingresses', 'ingressclasses', 'networkpolicies', 'priorityclasses', 'horizontalpodautoscalers', 'storageclasses', 'customresourcedefinitions'];
  const defs = builtinResources.filter((d: ResourceDef) => groups.includes(d.group) && mine.includes(d.plural));
  assert.equal(defs.length, 23);
  const junk: unknown[] = [null, 7, 'x', [], [null], { a: null }, [{ name: 5, ports: 'p', resources: [1] }]];
  const shapes = (): StoredObject[] => {
    const out: StoredObject[] = [{ metadata: { name: 'x' } } as StoredObject];
    for (const j of junk) {
      const tree = { spec: j, metadata: j, template: { spec: j, metadata: j }, rules: j, selector: j, target: j, containers: j };
      out.push({
        metadata: { name: 'x', namespace: 'default', labels: {}, annotations: {}, ownerReferences: [] },
        spec: { ...tree, template: { metadata: { labels: j }, spec: { containers: j, nodeSelector: j } }, jobTemplate: { spec: tree }, strategy: j, updateStrategy: j, selector: j, metrics: j, behavior: { scaleUp: j }, rules: j, tls: j, ingress: [j], egress: j, podSelector: j, parameters: j, names: j, versions: j, volumeClaimTemplates: j, policyTypes: j, minAvailable: j, scaleTargetRef: j, podFailurePolicy: { rules: j }, persistentVolumeClaimRetentionPolicy: j },
        status: { conditions: j, active: j, loadBalancer: { ingress: j }, currentMetrics: j, storedVersions: j },
        rules: j,
        subjects: j,
        roleRef: j,
        endpoints: j,
        ports: j,
        aggregationRule: j,
        regarding: j,
        series: j,
        parameters: j,
        allowedTopologies: j,
        data: j,
      } as unknown as StoredObject);
      out.push({ metadata: { name: 'x' }, spec: j, status: j, rules: j, subjects: j, roleRef: j, endpoints: j, ports: j, regarding: j, note: j, parameters: j, allowedTopologies: j } as unknown as StoredObject);
    }
    return out;
  };
  const failures = new Set<string>();
  for (const def of defs) {
    const st = def.strategy;
    for (const o of shapes()) {
      const old = shapes()[1]!;
      try {
        st.defaults?.(o);
        st.prepareForCreate?.(o);
        st.validate?.(o);
        st.prepareForUpdate?.(o, old);
        st.validateUpdate?.(o, old);
        st.validateStatusUpdate?.(o, old);
        st.selectableFields?.(o);
        st.table?.row(o, now);
        if (def.conversion) def.conversion.fromStorage(def.conversion.toStorage(o) as StoredObject);
      } catch (e) {
        failures.add(`${def.group}/${def.version}/${def.plural}: ${(e as Error).stack?.split('\n').slice(0, 2).join(' ')}`);
      }
    }
  }
  assert.deepEqual([...failures], []);
});

test('a guarded strategy turns a malformed object into field errors', () => {
  const s = guarded({ validate: (o) => (o.spec.items as string[]).map((x) => ({ type: 'FieldValueRequired', field: x })) });
  assert.deepEqual(s.validate!({ metadata: {}, spec: 'x' } as StoredObject).map(fieldErrorString), ['spec: Invalid value: "x": must be an object']);
  const errs = s.validate!({ metadata: {}, spec: { items: 5 } } as StoredObject).map(fieldErrorString);
  assert.match(errs[0]!, /^Invalid value: null: the object is malformed: /);
});
