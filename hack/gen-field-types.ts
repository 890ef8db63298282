/**
 * Regenerates pkg/openapi/field-types.json from the installed @kubernetes/client-node (see
 * pkg/openapi/field-types.ts). Run from the repository root after a client-node upgrade:
 *
 *   npx tsc -p tsconfig.json --outDir .build/gen && npx node .build/gen/hack/gen-field-types.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fieldTypesFromModels } from '../pkg/openapi/field-types.js';

const require = createRequire(import.meta.url);
const version = (require('@kubernetes/client-node/package.json') as { version: string }).version;
const models = (await import('@kubernetes/client-node/dist/gen/models/all.js')) as Record<string, unknown>;
const out = path.resolve('pkg/openapi/field-types.json');
if (!fs.existsSync(path.dirname(out))) throw new Error(`run from the repository root (no ${path.dirname(out)})`);
const t = fieldTypesFromModels(models, version);
// One model per line: small diffs on upgrades.
const lines = Object.entries(t.models).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
fs.writeFileSync(out, `{\n  "source": ${JSON.stringify(t.source)},\n  "models": {\n${lines.join(',\n')}\n  }\n}\n`);
console.log(`wrote ${out}: ${lines.length} models from ${t.source}`);
