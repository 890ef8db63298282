/**
 * Stands in for `@kubernetes/client-node/dist/gen/index.js` when client-node's `config.js` imports
 * it (see ../client-node.ts): `config.js` needs only these two names from it, and the real
 * index also loads every generated API class and model (about 40 MB of memory per process).
 */
export { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
