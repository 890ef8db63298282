/**
 * Parses an API path into what it names, after upstream's RequestInfoFactory:
 * /api/v1/namespaces/{ns}/{resource}/{name}/{subresource} and the /apis/{group}/{version} forms.
 */

export interface RequestInfo {
  /** true for /api and /apis paths that name a resource. */
  isResourceRequest: boolean;
  apiPrefix: 'api' | 'apis';
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  /** get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
}

// Subresources of a namespace that look like a namespaced resource in the path.
const namespaceSubresources = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return undefined;
  const prefix = parts[0];
  let rest: string[];
  let group = '';
  let version: string;
  if (prefix === 'api') {
    if (parts.length < 3) return undefined;
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (prefix === 'apis') {
    if (parts.length < 4) return undefined;
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return undefined;
  let decoded: string[];
  try {
    decoded = rest.map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
  let watchPath = false;
  if (decoded[0] === 'watch') {
    watchPath = true;
    decoded = decoded.slice(1);
  }
  const info: RequestInfo = { isResourceRequest: true, apiPrefix: prefix, group, version, resource: '', verb: '' };
  if (decoded[0] === 'namespaces') {
    if (decoded.length > 1) {
      info.namespace = decoded[1];
      if (decoded.length > 2 && !namespaceSubresources.has(decoded[2]!)) decoded = decoded.slice(2);
      else {
        // /namespaces/{name}[/status|/finalize]: the namespace object itself.
        info.namespace = undefined;
      }
    }
  }
  if (decoded.length === 0 || decoded.length > 3) return undefined;
  info.resource = decoded[0]!;
  if (decoded.length > 1) info.name = decoded[1];
  if (decoded.length > 2) info.subresource = decoded[2];
  if (decoded.some((p) => p === '')) return undefined;
  const m = method.toUpperCase();
  const isWatch = watchPath || ['1', 'true'].includes(query.get('watch') ?? '');
  switch (m) {
    case 'GET':
    case 'HEAD':
      info.verb = info.name ? (isWatch ? 'watch' : 'get') : isWatch ? 'watch' : 'list';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = m.toLowerCase();
  }
  return info;
}
