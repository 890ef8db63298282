/**
 * Creating and deleting pods for a controller (RealPodControl), with upstream's events:
 * SuccessfulCreate "Created pod: <name>", FailedCreate "Error creating: <err>",
 * SuccessfulDelete "Deleted pod: <name>", FailedDelete "Error deleting: <err>".
 */
import type { KubeObject, OwnerReference, Pod, PodTemplateSpec } from '../../api/types.js';
import { clone } from '../../api/meta.js';
import { hasStatusCause, isNotFound, resources, type RestClient } from '../../client/rest.js';
import type { EventRecorder } from './event-recorder.js';

export const namespaceTerminatingCause = 'NamespaceTerminating';

/** The pod a template describes (GetPodFromTemplate): labels, annotations, finalizers and spec, named after the parent. */
export function podFromTemplate(template: PodTemplateSpec, parent: KubeObject, controllerRef: OwnerReference): Pod {
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${parent.metadata!.name}-`,
      labels: { ...(meta.labels ?? {}) },
      ownerReferences: [controllerRef],
    },
    spec: clone(template.spec)!,
  };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata!.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata!.finalizers = [...meta.finalizers];
  return pod;
}

export class PodControl {
  constructor(
    private readonly client: RestClient,
    private readonly recorder: EventRecorder,
  ) {}

  async createPod(namespace: string, template: PodTemplateSpec, parent: KubeObject, controllerRef: OwnerReference): Promise<Pod> {
    const pod = podFromTemplate(template, parent, controllerRef);
    if (!Object.keys(pod.metadata!.labels ?? {}).length) throw new Error('unable to create pods, no labels');
    try {
      const created = await this.client.create<Pod>(resources.pods, namespace, pod);
      this.recorder.event(parent, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata!.name}`);
      return created;
    } catch (e) {
      // No event when the namespace is going away: every create would fail the same way.
      if (!hasStatusCause(e, namespaceTerminatingCause)) {
        this.recorder.event(parent, 'Warning', 'FailedCreate', `Error creating: ${e instanceof Error ? e.message : String(e)}`);
      }
      throw e;
    }
  }

  async deletePod(namespace: string, name: string, parent: KubeObject): Promise<void> {
    try {
      await this.client.delete(resources.pods, namespace, name);
    } catch (e) {
      if (isNotFound(e)) throw e;
      this.recorder.event(parent, 'Warning', 'FailedDelete', `Error deleting: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    this.recorder.event(parent, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }
}
