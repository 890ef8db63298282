/**
 * Pod cgroups. runc creates a pod's cgroup directories (under --cgroup-root/kubepods/<qos>/pod<uid>)
 * when the sandbox starts but never removes the parents it created, so the kubelet removes them
 * once the pod's sandboxes are gone (upstream's pod container manager does the same on cleanup).
 */
import fs from 'node:fs';
import path from 'node:path';

const CGROUP_FS = '/sys/fs/cgroup';

/** Every hierarchy a cgroup path appears in: each v1 controller, or the single v2 tree. */
function hierarchies(): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(CGROUP_FS, { withFileTypes: true });
  } catch {
    return [];
  }
  if (entries.some((e) => e.name === 'cgroup.controllers')) return [CGROUP_FS];
  return entries.filter((e) => e.isDirectory()).map((e) => path.join(CGROUP_FS, e.name));
}

/** Removes a cgroup directory and its (empty) children, deepest first. Missing is fine. */
function rmdirTree(dir: string): void {
  let children: fs.Dirent[];
  try {
    children = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const c of children) if (c.isDirectory()) rmdirTree(path.join(dir, c.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // busy (a process is still in it) or already gone
  }
}

/** Removes the cgroups of a pod from every QoS tier. */
export function removePodCgroups(cgroupRoot: string, uid: string): void {
  const base = `${cgroupRoot.replace(/\/+$/, '')}/kubepods`;
  for (const h of hierarchies()) {
    for (const tier of ['', 'burstable', 'besteffort']) rmdirTree(path.join(h, base, tier, `pod${uid}`));
  }
}

/** Removes the whole kubepods tree under a cgroup root (tests, and node teardown). */
export function removeCgroupRoot(cgroupRoot: string): void {
  if (cgroupRoot === '/' || cgroupRoot === '') return;
  for (const h of hierarchies()) rmdirTree(path.join(h, cgroupRoot));
}
