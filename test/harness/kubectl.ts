/** Runs stock kubectl binaries (kubectl.1.27 … kubectl.1.33, beside the real kubectl). */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

let kubectlDir: string | undefined;

export function kubectlPath(version: string): string {
  if (!kubectlDir) {
    const which = execFileSync('sh', ['-c', 'readlink -f "$(command -v kubectl)"']).toString().trim();
    kubectlDir = path.dirname(which);
  }
  const p = path.join(kubectlDir, `kubectl.${version}`);
  if (!fs.existsSync(p)) throw new Error(`${p} not found: stock kubectl ${version} is needed for this test`);
  return p;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(version: string, kubeconfig: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      kubectlPath(version),
      args,
      { env: { ...process.env, KUBECONFIG: kubeconfig, ...(opts.env ?? {}) }, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
    if (opts.input !== undefined) {
      child.stdin!.end(opts.input);
    }
  });
}

/** Runs kubectl and throws with its stderr when it fails. */
export async function kubectlOK(version: string, kubeconfig: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await kubectl(version, kubeconfig, args, opts);
  if (r.code !== 0) throw new Error(`kubectl.${version} ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}
