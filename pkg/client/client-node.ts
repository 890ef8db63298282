/**
 * The parts of `@kubernetes/client-node` that components use at run time (KubeConfig, ListWatch,
 * Watch, RequestContext), loaded without its generated API classes and models.
 *
 * Why: the package's entry point, and also its `config.js` (KubeConfig) and `cache.js`
 * (ListWatch), import the whole generated tree: about 62 MB of JavaScript, which costs every
 * process about 45 MB of RSS before it does anything. Components never call the generated
 * API classes (pkg/client/rest.ts explains why), so a module-resolution hook
 * (`module.registerHooks`) hands those two files small stand-ins (./slim/) that export exactly
 * the names they use from the generated code. The hook applies only to those two imports from
 * those two files; everything else in client-node is loaded as it is.
 *
 * The hook must be in place before the files are resolved, so they are loaded here with dynamic
 * imports after registering it. If the package was already loaded through its entry point (tests
 * import it), the module cache hands out the complete modules and nothing changes.
 */
import { registerHooks } from 'node:module';

const standIns: Record<string, { parent: string; url: string }> = {
  './gen/index.js': { parent: '/@kubernetes/client-node/dist/config.js', url: new URL('./slim/gen-index.js', import.meta.url).href },
  './serializer.js': { parent: '/@kubernetes/client-node/dist/cache.js', url: new URL('./slim/serializer.js', import.meta.url).href },
};

registerHooks({
  resolve(specifier, context, nextResolve) {
    const s = standIns[specifier];
    if (s && context.parentURL?.endsWith(s.parent)) return { url: s.url, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});

const config = await import('@kubernetes/client-node/dist/config.js');
const cache = await import('@kubernetes/client-node/dist/cache.js');

export const KubeConfig = config.KubeConfig;
export type KubeConfig = InstanceType<typeof KubeConfig>;
export const ListWatch = cache.ListWatch;
export type ListWatch<T extends import('@kubernetes/client-node').KubernetesObject> = import('@kubernetes/client-node/dist/cache.js').ListWatch<T>;
export { Watch } from '@kubernetes/client-node/dist/watch.js';
export { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
