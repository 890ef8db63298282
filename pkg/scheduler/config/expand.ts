/**
 * Resolves a profile's plugin configuration into the ordered plugins of each extension point
 * (upstream framework runtime's expandMultiPointPlugins). For each point:
 * 1. plugins configured at the point that are also in multiPoint, in the point's order;
 * 2. the other multiPoint plugins that implement the point, unless disabled there;
 * 3. the remaining plugins configured at the point.
 */
import type { Plugin } from '../framework/interface.js';
import type { PluginSets } from '../framework/runtime.js';
import { extensionPoints, type ExtensionPoint, type Plugins } from './types.js';

const methodOf: Record<ExtensionPoint, string> = {
  preEnqueue: 'preEnqueue',
  queueSort: 'less',
  preFilter: 'preFilter',
  filter: 'filter',
  postFilter: 'postFilter',
  preScore: 'preScore',
  score: 'score',
  reserve: 'reserve',
  permit: 'permit',
  preBind: 'preBind',
  bind: 'bind',
  postBind: 'postBind',
};

export function implementsPoint(p: Plugin, e: ExtensionPoint): boolean {
  return methodOf[e] in p;
}

/** Every plugin name enabled anywhere in the configuration. */
export function enabledPluginNames(plugins: Plugins): string[] {
  const names = new Set<string>();
  for (const p of plugins.multiPoint?.enabled ?? []) names.add(p.name);
  for (const e of extensionPoints) for (const p of plugins[e]?.enabled ?? []) names.add(p.name);
  return [...names];
}

export function expandPlugins(plugins: Plugins, instance: (name: string) => Plugin): PluginSets {
  const out = Object.fromEntries(extensionPoints.map((e) => [e, [] as unknown[]])) as unknown as PluginSets;
  const multi = plugins.multiPoint?.enabled ?? [];
  const multiNames = new Set(multi.map((p) => p.name));
  const seenMulti = new Set<string>();
  for (const p of multi) {
    if (seenMulti.has(p.name)) throw new Error(`plugin "${p.name}" already registered as "MultiPoint"`);
    seenMulti.add(p.name);
  }
  for (const e of extensionPoints) {
    const specific = plugins[e]?.enabled ?? [];
    const disabled = new Set((plugins[e]?.disabled ?? []).map((p) => p.name));
    const specificNames = new Set(specific.map((p) => p.name));
    const seen = new Set<string>();
    const entries: { name: string; weight: number }[] = [];
    const push = (name: string, weight: number | undefined) => {
      if (seen.has(name)) throw new Error(`plugin "${name}" already registered as "${e}"`);
      seen.add(name);
      const pl = instance(name);
      if (!implementsPoint(pl, e)) throw new Error(`plugin "${name}" does not extend ${e} plugin`);
      entries.push({ name, weight: weight || 1 });
    };
    for (const p of specific) if (multiNames.has(p.name)) push(p.name, p.weight);
    if (!disabled.has('*')) {
      for (const p of multi) {
        if (specificNames.has(p.name) || disabled.has(p.name)) continue;
        if (!implementsPoint(instance(p.name), e)) continue;
        push(p.name, p.weight);
      }
    }
    for (const p of specific) if (!multiNames.has(p.name)) push(p.name, p.weight);
    if (e === 'score') out.score = entries;
    else (out[e] as string[]) = entries.map((x) => x.name);
  }
  return out;
}
