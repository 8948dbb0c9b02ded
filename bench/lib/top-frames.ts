/**
 * The top frames of a V8 CPU profile (`node --cpu-prof`, e.g. `BENCH_CPU_PROF=<dir> npm run
 * bench:http`) by self time, and the same grouped by package, so a profile reads in a few lines.
 *
 *   node --import tsx bench/lib/top-frames.ts <file.cpuprofile> [count] [lastSeconds]
 *
 * `lastSeconds` counts only the samples of the profile's last seconds: the benches stop the server
 * right after its last measurement, so e.g. 12 keeps the load of that measurement (with its warm-up)
 * and leaves out the start-up (module loading, schema compilation).
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** `node_modules/<pkg>` (scoped too), `kith:<path>` for the repo's own code, `node:` built-ins. */
export function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.startsWith('node:')) return 'node (built-ins)';
  const src = /\/(apps\/server\/src\/.*)$/.exec(url);
  if (src) return `kith:${src[1]!.split('/').slice(3, 5).join('/')}`;
  return url === '' ? '(native / GC / idle)' : url;
}

export async function topFrames(file: string, count = 25, lastSeconds = Number.POSITIVE_INFINITY) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const from = profile.endTime - lastSeconds * 1e6;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from) self.set(id, (self.get(id) ?? 0) + delta);
  });
  let total = 0;
  let idle = 0;
  const frames = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const name = node.callFrame.functionName || '(anonymous)';
    total += us;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const where = node.callFrame.url.replace(/^.*\/(node_modules|apps\/server\/src)\//, '$1/');
    const key = `${name} ${where}:${node.callFrame.lineNumber + 1}`;
    frames.set(key, (frames.get(key) ?? 0) + us);
    const pkg = packageOf(node.callFrame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const busy = total - idle;
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 1000),
        percentOfBusy: Math.round((us / busy) * 1000) / 10,
      }));
  return {
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    frames: top(frames),
    packages: top(packages),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, count, lastSeconds] = process.argv.slice(2);
  if (!file) throw new Error('usage: top-frames.ts <file.cpuprofile> [count] [lastSeconds]');
  const result = await topFrames(file, Number(count ?? 25), Number(lastSeconds ?? Number.POSITIVE_INFINITY));
  console.log(`busy ${result.busyMs} ms, idle ${result.idleMs} ms\n\nself time by frame (% of busy):`);
  for (const f of result.frames) console.log(`${String(f.percentOfBusy).padStart(5)} %  ${f.name}`);
  console.log('\nself time by package (% of busy):');
  for (const p of result.packages) console.log(`${String(p.percentOfBusy).padStart(5)} %  ${p.name}`);
}
