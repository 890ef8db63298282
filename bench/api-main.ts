/**
 * Runs parts of the API benchmark alone against a fresh etcd and apiserver, for profiling and
 * before/after comparisons: `node bench/api-main.js [creates,list,watch]` with LIST_SIZE,
 * LIST_RUNS, WATCHERS (comma-separated), WATCH_EVENTS and APISERVER_ARGS (space-separated) from
 * the environment. With API_URL and ETCD_URL it uses servers already running (e.g. an apiserver
 * under `node --cpu-prof`) instead.
 */
import { startEtcd } from '../test/harness/etcd.js';
import { spawnApiserver } from '../test/harness/apiserver.js';
import { benchApi, type ApiSection } from './api.js';

const env = process.env;
const sections = (process.argv[2] ?? 'list,watch').split(',') as ApiSection[];
const etcd = env.ETCD_URL ? undefined : await startEtcd();
const api = env.API_URL ? undefined : await spawnApiserver(etcd!.endpoint, undefined, ['--etcd-compaction-interval=0', ...(env.APISERVER_ARGS ?? '').split(' ').filter(Boolean)]);
try {
  await benchApi(
    api?.url ?? env.API_URL!,
    etcd?.endpoint ?? env.ETCD_URL!,
    {
      creates: Number(env.CREATES ?? 1000),
      concurrencies: [64],
      listSize: Number(env.LIST_SIZE ?? 10000),
      listRuns: Number(env.LIST_RUNS ?? 30),
      watcherCounts: (env.WATCHERS ?? '1,100,1000').split(',').map(Number),
      watchEvents: Number(env.WATCH_EVENTS ?? 50),
      sections,
    },
    (s) => console.log(s),
  );
} finally {
  await api?.kill();
  await etcd?.stop();
}
