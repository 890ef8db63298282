/**
 * A typed CRI runtime.v1 client over grpc-js (RuntimeService and ImageService on one unix socket).
 * The proto is proto/runtime/v1/api.proto, loaded at run time with @grpc/proto-loader; replies keep
 * upstream's snake_case field names (see types.ts). Every call is counted and timed under its
 * upstream operation_type (`run_podsandbox`, `pull_image`, …).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoPath } from './repo-root.js';
import type { CriMetrics } from './metrics.js';
import type * as t from './types.js';

const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

let packageCache: grpc.GrpcObject | undefined;
function runtimeV1(): grpc.GrpcObject {
  if (!packageCache) {
    const def = protoLoader.loadSync(repoPath('proto/runtime/v1/api.proto'), LOADER_OPTIONS);
    packageCache = (grpc.loadPackageDefinition(def).runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
  }
  return packageCache;
}

/** Turns `--container-runtime-endpoint` (`unix:///run/x.sock` or a bare path) into a grpc target. */
export function criTarget(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  return endpoint;
}

/** The gRPC status of a failed CRI call, if it is one. */
export function grpcCode(e: unknown): number | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
}

export function isNotFound(e: unknown): boolean {
  return grpcCode(e) === grpc.status.NOT_FOUND;
}

/** The runtime's own message for a failed call, without grpc-js's "N CODE:" prefix. */
export function criErrorMessage(e: unknown): string {
  const details = (e as { details?: unknown } | null)?.details;
  if (typeof details === 'string' && details) return details;
  return e instanceof Error ? e.message : String(e);
}

export interface CriClientOptions {
  /** `unix:///abs/path.sock` or `/abs/path.sock`. */
  endpoint: string;
  metrics?: CriMetrics;
  /** Deadline for ordinary calls (upstream's --runtime-request-timeout, 2m). */
  requestTimeoutMs?: number;
  /** Deadline for PullImage, which may legitimately take long. */
  pullTimeoutMs?: number;
}

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;
  private readonly metrics?: CriMetrics;
  private readonly requestTimeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(opts: CriClientOptions) {
    const pkg = runtimeV1();
    const target = criTarget(opts.endpoint);
    const creds = grpc.credentials.createInsecure();
    const channelOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 + 1024 * 1024 };
    const Runtime = pkg.RuntimeService as grpc.ServiceClientConstructor;
    const Image = pkg.ImageService as grpc.ServiceClientConstructor;
    this.runtime = new Runtime(target, creds, channelOptions);
    this.image = new Image(target, creds, channelOptions);
    this.metrics = opts.metrics;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 120_000;
    this.pullTimeoutMs = opts.pullTimeoutMs ?? 600_000;
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }

  private call<T>(client: grpc.Client, method: string, operation: string, req: unknown, timeoutMs = this.requestTimeoutMs): Promise<T> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    const start = process.hrtime.bigint();
    this.metrics?.operations.inc({ operation_type: operation });
    return new Promise<T>((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        this.metrics?.duration.observe({ operation_type: operation }, Number(process.hrtime.bigint() - start) / 1e9);
        if (err) {
          this.metrics?.errors.inc({ operation_type: operation });
          reject(err);
        } else resolve(res as T);
      });
    });
  }

  // ---- RuntimeService ----

  version(): Promise<t.VersionResponse> {
    return this.call(this.runtime, 'Version', 'version', { version: 'v1' });
  }

  status(verbose = false): Promise<t.StatusResponse> {
    return this.call(this.runtime, 'Status', 'status', { verbose });
  }

  async runPodSandbox(config: t.Req<t.PodSandboxConfig>, runtimeHandler = ''): Promise<string> {
    const r = await this.call<{ pod_sandbox_id: string }>(this.runtime, 'RunPodSandbox', 'run_podsandbox', { config, runtime_handler: runtimeHandler }, Math.max(this.requestTimeoutMs, 240_000));
    return r.pod_sandbox_id;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.call(this.runtime, 'StopPodSandbox', 'stop_podsandbox', { pod_sandbox_id: podSandboxId });
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.call(this.runtime, 'RemovePodSandbox', 'remove_podsandbox', { pod_sandbox_id: podSandboxId });
  }

  podSandboxStatus(podSandboxId: string, verbose = false): Promise<t.PodSandboxStatusResponse> {
    return this.call(this.runtime, 'PodSandboxStatus', 'podsandbox_status', { pod_sandbox_id: podSandboxId, verbose });
  }

  async listPodSandbox(filter?: t.Req<t.PodSandboxFilter>): Promise<t.PodSandbox[]> {
    const r = await this.call<{ items: t.PodSandbox[] }>(this.runtime, 'ListPodSandbox', 'list_podsandbox', { filter });
    return r.items;
  }

  async createContainer(podSandboxId: string, config: t.Req<t.ContainerConfig>, sandboxConfig: t.Req<t.PodSandboxConfig>): Promise<string> {
    const r = await this.call<{ container_id: string }>(this.runtime, 'CreateContainer', 'create_container', { pod_sandbox_id: podSandboxId, config, sandbox_config: sandboxConfig });
    return r.container_id;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.call(this.runtime, 'StartContainer', 'start_container', { container_id: containerId });
  }

  /** Stops a container, killing it after `timeoutSeconds`. The deadline leaves room for the kill. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.call(this.runtime, 'StopContainer', 'stop_container', { container_id: containerId, timeout: Math.max(0, Math.floor(timeoutSeconds)) }, timeoutSeconds * 1000 + this.requestTimeoutMs);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.call(this.runtime, 'RemoveContainer', 'remove_container', { container_id: containerId });
  }

  async listContainers(filter?: t.Req<t.ContainerFilter>): Promise<t.Container[]> {
    const r = await this.call<{ containers: t.Container[] }>(this.runtime, 'ListContainers', 'list_containers', { filter });
    return r.containers;
  }

  containerStatus(containerId: string, verbose = false): Promise<t.ContainerStatusResponse> {
    return this.call(this.runtime, 'ContainerStatus', 'container_status', { container_id: containerId, verbose });
  }

  async updateContainerResources(containerId: string, linux: t.Req<t.LinuxContainerResources>): Promise<void> {
    await this.call(this.runtime, 'UpdateContainerResources', 'update_container', { container_id: containerId, linux });
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    await this.call(this.runtime, 'ReopenContainerLog', 'reopen_container_log', { container_id: containerId });
  }

  /** Runs a command to completion; `timeoutSeconds` 0 means no limit on the command itself. */
  execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<t.ExecSyncResponse> {
    const deadline = timeoutSeconds > 0 ? timeoutSeconds * 1000 + this.requestTimeoutMs : 24 * 3600_000;
    return this.call(this.runtime, 'ExecSync', 'exec_sync', { container_id: containerId, cmd, timeout: timeoutSeconds }, deadline);
  }

  async exec(req: { container_id: string; cmd: string[]; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    const r = await this.call<{ url: string }>(this.runtime, 'Exec', 'exec', req);
    return r.url;
  }

  async attach(req: { container_id: string; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    const r = await this.call<{ url: string }>(this.runtime, 'Attach', 'attach', req);
    return r.url;
  }

  async portForward(podSandboxId: string, ports: number[] = []): Promise<string> {
    const r = await this.call<{ url: string }>(this.runtime, 'PortForward', 'port_forward', { pod_sandbox_id: podSandboxId, port: ports });
    return r.url;
  }

  async containerStats(containerId: string): Promise<t.ContainerStats | null> {
    const r = await this.call<{ stats: t.ContainerStats | null }>(this.runtime, 'ContainerStats', 'container_stats', { container_id: containerId });
    return r.stats;
  }

  async listContainerStats(filter?: { id?: string; pod_sandbox_id?: string; label_selector?: Record<string, string> }): Promise<t.ContainerStats[]> {
    const r = await this.call<{ stats: t.ContainerStats[] }>(this.runtime, 'ListContainerStats', 'list_container_stats', { filter });
    return r.stats;
  }

  async podSandboxStats(podSandboxId: string): Promise<t.PodSandboxStats | null> {
    const r = await this.call<{ stats: t.PodSandboxStats | null }>(this.runtime, 'PodSandboxStats', 'podsandbox_stats', { pod_sandbox_id: podSandboxId });
    return r.stats;
  }

  async listPodSandboxStats(filter?: { id?: string; label_selector?: Record<string, string> }): Promise<t.PodSandboxStats[]> {
    const r = await this.call<{ stats: t.PodSandboxStats[] }>(this.runtime, 'ListPodSandboxStats', 'list_podsandbox_stats', { filter });
    return r.stats;
  }

  async updateRuntimeConfig(podCIDR: string): Promise<void> {
    await this.call(this.runtime, 'UpdateRuntimeConfig', 'update_runtime_config', { runtime_config: { network_config: { pod_cidr: podCIDR } } });
  }

  // ---- ImageService ----

  async listImages(): Promise<t.Image[]> {
    const r = await this.call<{ images: t.Image[] }>(this.image, 'ListImages', 'list_images', {});
    return r.images;
  }

  /** The image if the runtime has it, else null (ImageStatus answers with no image, not an error). */
  async imageStatus(image: string): Promise<t.Image | null> {
    const r = await this.call<{ image: t.Image | null }>(this.image, 'ImageStatus', 'image_status', { image: { image } });
    return r.image && r.image.id ? r.image : null;
  }

  /** Pulls an image and answers its reference (the image ID). */
  async pullImage(image: string, auth?: t.Req<t.AuthConfig>, sandboxConfig?: t.Req<t.PodSandboxConfig>): Promise<string> {
    const r = await this.call<{ image_ref: string }>(this.image, 'PullImage', 'pull_image', { image: { image }, auth, sandbox_config: sandboxConfig }, this.pullTimeoutMs);
    return r.image_ref;
  }

  async removeImage(image: string): Promise<void> {
    await this.call(this.image, 'RemoveImage', 'remove_image', { image: { image } });
  }

  imageFsInfo(): Promise<t.ImageFsInfoResponse> {
    return this.call(this.image, 'ImageFsInfo', 'image_fs_info', {});
  }
}
