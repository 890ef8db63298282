/** The Kubernetes version keelson emulates, reported by /version and by every component. */
export const kubernetesVersion = { major: '1', minor: '32', gitVersion: 'v1.32.0+keelson' };

export function versionInfo(): Record<string, string> {
  return {
    ...kubernetesVersion,
    gitCommit: process.env.KEELSON_GIT_COMMIT ?? '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-11-22T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
