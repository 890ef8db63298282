/**
 * Encodes a Swagger 2.0 document as gnostic's `openapi.v2.Document` protobuf message
 * (proto/gnostic/openapiv2.proto), the form kube-apiserver serves for
 * `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`.
 *
 * Free-form values (defaults, enums, examples, `x-` extensions) travel as YAML text in
 * `Any.yaml`; JSON text is valid YAML, and that is what kubectl parses them with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

type Obj = Record<string, unknown>;

let root: protobuf.Root | undefined;

/** Finds `proto/gnostic` above the running module: source tree, `dist/` or a `.build/<x>/` outDir. */
function protoDir(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'proto');
    if (fs.existsSync(path.join(candidate, 'gnostic', 'openapiv2.proto'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`proto/gnostic/openapiv2.proto not found above ${start}`);
    dir = parent;
  }
}

/** The `openapi.v2.Document` message type, parsed on first use. */
export function documentType(): protobuf.Type {
  if (!root) {
    const base = protoDir();
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => path.join(base, target);
    r.loadSync('gnostic/openapiv2.proto', { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root.lookupType('openapi.v2.Document');
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function anyOf(v: unknown): Obj {
  return { yaml: `${JSON.stringify(v)}\n` };
}

function vendorExtensions(o: Obj): Obj[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, v]) => ({ name, value: anyOf(v) }));
}

function copyScalars(from: Obj, to: Obj, fields: Record<string, string>): void {
  for (const [json, proto] of Object.entries(fields)) {
    const v = from[json];
    if (v !== undefined && v !== null && typeof v !== 'object') to[proto] = v;
  }
}

const schemaScalars = {
  $ref: '_ref',
  format: 'format',
  title: 'title',
  description: 'description',
  multipleOf: 'multiple_of',
  maximum: 'maximum',
  exclusiveMaximum: 'exclusive_maximum',
  minimum: 'minimum',
  exclusiveMinimum: 'exclusive_minimum',
  maxLength: 'max_length',
  minLength: 'min_length',
  pattern: 'pattern',
  maxItems: 'max_items',
  minItems: 'min_items',
  uniqueItems: 'unique_items',
  maxProperties: 'max_properties',
  minProperties: 'min_properties',
  discriminator: 'discriminator',
  readOnly: 'read_only',
};

function schemaMessage(s: Obj): Obj {
  const m: Obj = {};
  copyScalars(s, m, schemaScalars);
  if ('default' in s) m.default = anyOf(s.default);
  if ('example' in s) m.example = anyOf(s.example);
  if (Array.isArray(s.required)) m.required = s.required.map(String);
  if (Array.isArray(s.enum)) m.enum = s.enum.map(anyOf);
  if (typeof s.additionalProperties === 'boolean') m.additional_properties = { boolean: s.additionalProperties };
  else if (isObj(s.additionalProperties)) m.additional_properties = { schema: schemaMessage(s.additionalProperties) };
  if (typeof s.type === 'string') m.type = { value: [s.type] };
  else if (Array.isArray(s.type)) m.type = { value: s.type.map(String) };
  if (isObj(s.items)) m.items = { schema: [schemaMessage(s.items)] };
  else if (Array.isArray(s.items)) m.items = { schema: s.items.filter(isObj).map(schemaMessage) };
  if (Array.isArray(s.allOf)) m.all_of = s.allOf.filter(isObj).map(schemaMessage);
  if (isObj(s.properties)) {
    m.properties = { additional_properties: Object.entries(s.properties).filter(([, v]) => isObj(v)).map(([name, v]) => ({ name, value: schemaMessage(v as Obj) })) };
  }
  if (isObj(s.externalDocs)) m.external_docs = { description: s.externalDocs.description, url: s.externalDocs.url };
  const ext = vendorExtensions(s);
  if (ext.length > 0) m.vendor_extension = ext;
  return m;
}

const parameterScalars = {
  required: 'required',
  in: 'in',
  description: 'description',
  name: 'name',
  type: 'type',
  format: 'format',
  collectionFormat: 'collection_format',
  maximum: 'maximum',
  exclusiveMaximum: 'exclusive_maximum',
  minimum: 'minimum',
  exclusiveMinimum: 'exclusive_minimum',
  maxLength: 'max_length',
  minLength: 'min_length',
  pattern: 'pattern',
  maxItems: 'max_items',
  minItems: 'min_items',
  uniqueItems: 'unique_items',
  multipleOf: 'multiple_of',
};

function parameterMessage(p: Obj): Obj {
  if (typeof p.$ref === 'string') return { json_reference: { _ref: p.$ref } };
  if (p.in === 'body') {
    const body: Obj = {};
    copyScalars(p, body, { description: 'description', name: 'name', in: 'in', required: 'required' });
    if (isObj(p.schema)) body.schema = schemaMessage(p.schema);
    const ext = vendorExtensions(p);
    if (ext.length > 0) body.vendor_extension = ext;
    return { parameter: { body_parameter: body } };
  }
  const sub: Obj = {};
  copyScalars(p, sub, p.in === 'query' || p.in === 'formData' ? { ...parameterScalars, allowEmptyValue: 'allow_empty_value' } : parameterScalars);
  if ('default' in p) sub.default = anyOf(p.default);
  if (Array.isArray(p.enum)) sub.enum = p.enum.map(anyOf);
  const ext = vendorExtensions(p);
  if (ext.length > 0) sub.vendor_extension = ext;
  const which = { query: 'query_parameter_sub_schema', path: 'path_parameter_sub_schema', header: 'header_parameter_sub_schema', formData: 'form_data_parameter_sub_schema' }[String(p.in)];
  if (!which) throw new Error(`parameter ${String(p.name)} has an unknown location ${String(p.in)}`);
  return { parameter: { non_body_parameter: { [which]: sub } } };
}

function operationMessage(op: Obj): Obj {
  const m: Obj = {};
  copyScalars(op, m, { summary: 'summary', description: 'description', operationId: 'operation_id', deprecated: 'deprecated' });
  for (const list of ['tags', 'produces', 'consumes', 'schemes']) if (Array.isArray(op[list])) m[list] = (op[list] as unknown[]).map(String);
  if (Array.isArray(op.parameters)) m.parameters = op.parameters.filter(isObj).map(parameterMessage);
  if (isObj(op.responses)) {
    m.responses = {
      response_code: Object.entries(op.responses)
        .filter(([, r]) => isObj(r))
        .map(([code, r]) => {
          const resp = r as Obj;
          if (typeof resp.$ref === 'string') return { name: code, value: { json_reference: { _ref: resp.$ref } } };
          const value: Obj = { description: String(resp.description ?? '') };
          if (isObj(resp.schema)) value.schema = { schema: schemaMessage(resp.schema) };
          return { name: code, value: { response: value } };
        }),
    };
  }
  const ext = vendorExtensions(op);
  if (ext.length > 0) m.vendor_extension = ext;
  return m;
}

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

function pathItemMessage(item: Obj): Obj {
  const m: Obj = {};
  for (const method of methods) if (isObj(item[method])) m[method] = operationMessage(item[method] as Obj);
  if (Array.isArray(item.parameters)) m.parameters = item.parameters.filter(isObj).map(parameterMessage);
  const ext = vendorExtensions(item);
  if (ext.length > 0) m.vendor_extension = ext;
  return m;
}

function securityDefinitionMessage(d: Obj): Obj {
  const m: Obj = {};
  copyScalars(d, m, { type: 'type', name: 'name', in: 'in', description: 'description' });
  switch (d.type) {
    case 'apiKey':
      return { api_key_security: m };
    case 'basic':
      return { basic_authentication_security: { type: m.type, description: m.description } };
    default:
      throw new Error(`security definition type ${String(d.type)} is not supported`);
  }
}

/** The gnostic message (as a plain object, proto field names) of a Swagger 2.0 document. */
export function swaggerToGnostic(doc: Obj): Obj {
  const m: Obj = {};
  copyScalars(doc, m, { swagger: 'swagger', host: 'host', basePath: 'base_path' });
  if (isObj(doc.info)) {
    const info: Obj = {};
    copyScalars(doc.info, info, { title: 'title', version: 'version', description: 'description', termsOfService: 'terms_of_service' });
    m.info = info;
  }
  for (const list of ['schemes', 'consumes', 'produces']) if (Array.isArray(doc[list])) m[list] = (doc[list] as unknown[]).map(String);
  if (isObj(doc.paths)) m.paths = { path: Object.entries(doc.paths).filter(([, v]) => isObj(v)).map(([name, v]) => ({ name, value: pathItemMessage(v as Obj) })) };
  if (isObj(doc.definitions)) {
    m.definitions = { additional_properties: Object.entries(doc.definitions).filter(([, v]) => isObj(v)).map(([name, v]) => ({ name, value: schemaMessage(v as Obj) })) };
  }
  if (isObj(doc.securityDefinitions)) {
    m.security_definitions = {
      additional_properties: Object.entries(doc.securityDefinitions)
        .filter(([, v]) => isObj(v))
        .map(([name, v]) => ({ name, value: securityDefinitionMessage(v as Obj) })),
    };
  }
  if (Array.isArray(doc.security)) {
    m.security = doc.security.filter(isObj).map((req) => ({
      additional_properties: Object.entries(req).map(([name, scopes]) => ({ name, value: { value: Array.isArray(scopes) ? scopes.map(String) : [] } })),
    }));
  }
  const ext = vendorExtensions(doc);
  if (ext.length > 0) m.vendor_extension = ext;
  return m;
}

/** The protobuf bytes of a Swagger 2.0 document. */
export function encodeSwagger(doc: Obj): Buffer {
  const type = documentType();
  const message = type.fromObject(swaggerToGnostic(doc));
  return Buffer.from(type.encode(message).finish());
}

/** Decodes gnostic protobuf bytes back to a plain object with proto field names (for tests and debugging). */
export function decodeGnostic(bytes: Uint8Array): Obj {
  const type = documentType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true, oneofs: false }) as Obj;
}
