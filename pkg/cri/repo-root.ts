/**
 * Finds files shipped with keelson (protos, CNI templates) at run time. Compiled code lives in
 * `dist/` or `.build/<name>/`, so the path is found by walking up from this module to the folder
 * holding keelson's package.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The repository (or installed package) root: the nearest ancestor with keelson's package.json. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'keelson') {
          cached = dir;
          return dir;
        }
      } catch {
        // not a package.json we can read: keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the keelson repository root (package.json) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** An absolute path to a file shipped in the repository, e.g. `repoPath('proto/runtime/v1/api.proto')`. */
export function repoPath(rel: string): string {
  return path.join(repoRoot(), rel);
}
