/**
 * Making sure a container's image is on the node (upstream pkg/kubelet/images): imagePullPolicy
 * decides between ImageStatus and PullImage, failed pulls back off (ErrImagePull, then
 * ImagePullBackOff), and imagePullSecrets supply registry credentials.
 */
import type { Container, Pod, Secret } from './types.js';
import { CriClient, criErrorMessage } from '../cri/index.js';
import type { AuthConfig, PodSandboxConfig, Req } from '../cri/types.js';
import { Backoff } from './backoff.js';
import type { EventRecorder } from './events.js';
import type { ObjectSource } from './object-source.js';

/** Why a container cannot start for its image; `reason` is the container's waiting reason. */
export class ImagePullError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

/** The registry host an image reference pulls from (docker.io for `busybox`). */
export function imageRegistry(image: string): string {
  const first = image.split('/')[0]!;
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return first;
  return 'docker.io';
}

function normalizeRegistryKey(key: string): string {
  let k = key.replace(/^https?:\/\//, '');
  k = k.replace(/\/v[12]\/?$/, '').replace(/\/$/, '');
  if (k === 'index.docker.io' || k === 'registry-1.docker.io') return 'docker.io';
  return k;
}

/** Credentials from the pod's imagePullSecrets that match the image's registry, best first. */
export function credentialsFor(image: string, secrets: Secret[]): Req<AuthConfig>[] {
  const registry = imageRegistry(image);
  const repo = `${registry}/${image.startsWith(registry + '/') ? image.slice(registry.length + 1) : image}`;
  const out: { score: number; auth: Req<AuthConfig> }[] = [];
  for (const s of secrets) {
    let auths: Record<string, { username?: string; password?: string; auth?: string; identitytoken?: string; registrytoken?: string }> = {};
    try {
      if (s.type === 'kubernetes.io/dockerconfigjson' && s.data?.['.dockerconfigjson']) {
        auths = JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString('utf8')).auths ?? {};
      } else if (s.type === 'kubernetes.io/dockercfg' && s.data?.['.dockercfg']) {
        auths = JSON.parse(Buffer.from(s.data['.dockercfg'], 'base64').toString('utf8'));
      }
    } catch {
      continue;
    }
    for (const [key, entry] of Object.entries(auths)) {
      const k = normalizeRegistryKey(key);
      if (repo !== k && !repo.startsWith(k + '/')) continue;
      let { username, password } = entry;
      if ((!username || !password) && entry.auth) {
        const dec = Buffer.from(entry.auth, 'base64').toString('utf8');
        const i = dec.indexOf(':');
        if (i > 0) {
          username = dec.slice(0, i);
          password = dec.slice(i + 1);
        }
      }
      out.push({
        score: k.length,
        auth: { username: username ?? '', password: password ?? '', server_address: k, identity_token: entry.identitytoken ?? '', registry_token: entry.registrytoken ?? '' },
      });
    }
  }
  return out.sort((a, b) => b.score - a.score).map((x) => x.auth);
}

export class ImageManager {
  constructor(
    private readonly cri: CriClient,
    private readonly backoff: Backoff,
    private readonly objects: ObjectSource,
    private readonly events: EventRecorder,
    private readonly now: () => number,
  ) {}

  /** How long the pod's pull of this container's image still backs off. */
  backoffRemainingMs(pod: Pod, c: Container): number {
    return this.backoff.remainingMs(`${pod.metadata!.uid}_${c.image ?? ''}`);
  }

  /** Answers the image reference to create the container from, pulling it when the policy says so. */
  async ensureImage(pod: Pod, c: Container, fieldPath: string, sandboxConfig: Req<PodSandboxConfig>): Promise<string> {
    const image = c.image ?? '';
    if (!image) throw new ImagePullError('InvalidImageName', `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`);
    const policy = c.imagePullPolicy || (image.endsWith(':latest') || !/:[^/]+$/.test(image) ? 'Always' : 'IfNotPresent');
    const present = policy === 'Always' ? null : await this.cri.imageStatus(image);
    if (present) {
      if (policy !== 'Always') this.events.pod(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, fieldPath);
      return present.id;
    }
    if (policy === 'Never') {
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      this.events.pod(pod, 'Warning', 'ErrImageNeverPull', msg, fieldPath);
      throw new ImagePullError('ErrImageNeverPull', msg);
    }
    const key = `${pod.metadata!.uid}_${image}`;
    if (this.backoff.isInBackOffSinceUpdate(key)) {
      const msg = `Back-off pulling image "${image}"`;
      this.events.pod(pod, 'Normal', 'BackOff', msg, fieldPath);
      throw new ImagePullError('ImagePullBackOff', msg);
    }
    const secrets: Secret[] = [];
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      if (!ref.name) continue;
      const s = await this.objects.secret(pod.metadata!.namespace!, ref.name);
      if (s) secrets.push(s);
    }
    const creds = credentialsFor(image, secrets);
    this.events.pod(pod, 'Normal', 'Pulling', `Pulling image "${image}"`, fieldPath);
    const start = this.now();
    let lastErr: unknown;
    for (const auth of creds.length ? [...creds, undefined] : [undefined]) {
      try {
        const ref = await this.cri.pullImage(image, auth, sandboxConfig);
        this.backoff.reset(key);
        const secs = ((this.now() - start) / 1000).toFixed(3);
        const st = await this.cri.imageStatus(ref).catch(() => null);
        this.events.pod(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${secs}s (${secs}s including waiting).${st ? ` Image size: ${st.size} bytes.` : ''}`, fieldPath);
        return ref;
      } catch (e) {
        lastErr = e;
      }
    }
    this.backoff.next(key, this.now());
    const msg = `Failed to pull image "${image}": ${criErrorMessage(lastErr)}`;
    this.events.pod(pod, 'Warning', 'Failed', msg, fieldPath);
    this.events.pod(pod, 'Warning', 'Failed', 'Error: ErrImagePull', fieldPath);
    throw new ImagePullError('ErrImagePull', msg);
  }
}
