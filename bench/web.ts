/**
 * The web app's JavaScript budget: builds apps/web, then reports the initial JavaScript of the feed
 * route (the entry, its static imports and the feed's lazy chunk with its imports) gzip -9 and
 * brotli -11 against the budget of 120 KiB gzip, and the size of every lazy chunk. With
 * BENCH_COMPARE=<git rev> (default HEAD~1) the same figures for that commit's build are shown
 * beside them when it can be built in a scratch worktree.
 *
 * Then Lighthouse 12.2.3 (mobile) on the login page and on a seeded user's feed, against goals of
 * performance ≥ 95, accessibility 100, best practices ≥ 95, and INP of opening a post and reacting
 * in a scripted session beside a bare page's button (BENCH_WEB_LIGHTHOUSE=0 skips this part). The
 * feed's layout shifts in that session are listed with what moved; BENCH_WEB_LHR_DIR=<dir> keeps
 * the full Lighthouse reports there.
 *
 *   npm run bench:web
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { stopAll } from './lib/processes.ts';
import { REPO_DIR, table, writeResult } from './lib/report.ts';
import { type AuditResult, auditWebApp } from './lib/web-audit.ts';

const BUDGET_GZIP_KIB = 120;
const FEED_ROUTE_SOURCE = 'src/routes/home/home.lazy.tsx';

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}
type Manifest = Record<string, ManifestChunk>;

interface Sizes {
  raw: number;
  gzip: number;
  brotli: number;
}

const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

async function sizesOf(dist: string, files: string[]): Promise<Sizes> {
  const out: Sizes = { raw: 0, gzip: 0, brotli: 0 };
  for (const file of files) {
    const body = await readFile(join(dist, file));
    out.raw += body.length;
    out.gzip += gzipSync(body, { level: 9 }).length;
    out.brotli += brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  return out;
}

/** A chunk and everything it imports statically (what must load before it runs). */
function closure(manifest: Manifest, key: string, seen = new Set<string>()): Set<string> {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const dep of manifest[key]?.imports ?? []) closure(manifest, dep, seen);
  return seen;
}

/** The checkout's apps/web/dist is shared (the server serves it): built under the team's lock. */
const SHARED_BUILD_LOCK = '/tmp/kith-webbuild.lock';

function build(webDir: string, lock?: string) {
  const vite = [
    process.execPath,
    join(REPO_DIR, 'node_modules/vite/bin/vite.js'),
    'build',
    '--logLevel',
    'error',
  ];
  const [command, ...args] = lock ? ['flock', lock, ...vite] : vite;
  execFileSync(command!, args, { cwd: webDir, stdio: 'inherit' });
}

async function measure(webDir: string) {
  const dist = join(webDir, 'dist');
  const manifest = JSON.parse(await readFile(join(dist, '.vite/manifest.json'), 'utf8')) as Manifest;
  const entryKey = Object.keys(manifest).find((k) => manifest[k]!.isEntry)!;
  const feedKey = Object.keys(manifest).find((k) => manifest[k]!.src === FEED_ROUTE_SOURCE);
  const initial = closure(manifest, entryKey);
  if (feedKey) closure(manifest, feedKey, initial);
  const initialFiles = [...initial].map((k) => manifest[k]!.file).filter((f) => f.endsWith('.js'));
  const feed = await sizesOf(dist, initialFiles);
  const lazy: Record<string, Sizes> = {};
  for (const [key, chunk] of Object.entries(manifest)) {
    if (!chunk.isDynamicEntry) continue;
    lazy[chunk.src ?? key] = await sizesOf(dist, [chunk.file]);
  }
  // the message catalogue ships as preloaded JSON (apps/web/scripts/catalogue.ts): not JavaScript,
  // but on the first render's path, so it is reported beside the budget
  const catalogueFiles = Object.values(manifest)
    .map((c) => c.file)
    .filter((f) => /^assets\/en-[\w-]+\.json$/.test(f));
  const catalogue = catalogueFiles.length ? await sizesOf(dist, catalogueFiles) : undefined;
  return { feed, initialFiles, lazy, catalogue };
}

/** The same figures for another commit: a scratch worktree sharing this checkout's node_modules. */
async function measureRevision(rev: string) {
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-web-'));
  try {
    execFileSync('git', ['worktree', 'add', '--detach', dir, rev], { cwd: REPO_DIR, stdio: 'ignore' });
    const webDir = join(dir, 'apps/web');
    if (!existsSync(join(webDir, 'vite.config.ts'))) return undefined;
    await symlink(join(REPO_DIR, 'node_modules'), join(dir, 'node_modules'));
    build(webDir);
    if (!existsSync(join(webDir, 'dist/.vite/manifest.json'))) return undefined;
    return await measure(webDir);
  } catch {
    return undefined;
  } finally {
    try {
      execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: REPO_DIR, stdio: 'ignore' });
    } catch {
      // never added (an unknown revision): only the scratch directory is left
    }
    await rm(dir, { recursive: true, force: true });
  }
}

const webDir = join(REPO_DIR, 'apps/web');
build(webDir, SHARED_BUILD_LOCK);
const now = await measure(webDir);
const compareRev = process.env.BENCH_COMPARE ?? 'HEAD~1';
const before = await measureRevision(compareRev);

const col = (s: Sizes | undefined, k: keyof Sizes) => (s ? kib(s[k]) : '–');
console.log(`\nInitial JavaScript of the feed route (${now.initialFiles.length} files), KiB:`);
console.log(
  table([
    ['', 'raw', 'gzip', 'brotli', `gzip @${compareRev}`],
    ['feed route', kib(now.feed.raw), kib(now.feed.gzip), kib(now.feed.brotli), col(before?.feed, 'gzip')],
    ['budget', '', BUDGET_GZIP_KIB, '', ''],
    [
      '+ catalogue JSON (preloaded)',
      col(now.catalogue, 'raw'),
      col(now.catalogue, 'gzip'),
      col(now.catalogue, 'brotli'),
      col(before?.catalogue, 'gzip'),
    ],
  ]),
);
console.log(
  `\n${now.feed.gzip / 1024 <= BUDGET_GZIP_KIB ? 'within' : 'OVER'} budget: ${kib(now.feed.gzip)} of ${BUDGET_GZIP_KIB} KiB gzip (${Math.round((now.feed.gzip / 1024 / BUDGET_GZIP_KIB) * 100)} %)`,
);
console.log('\nLazy chunks, KiB:');
console.log(
  table([
    ['chunk', 'raw', 'gzip', 'brotli', `gzip @${compareRev}`],
    ...Object.entries(now.lazy).map(([name, s]) => [
      name,
      kib(s.raw),
      kib(s.gzip),
      kib(s.brotli),
      col(before?.lazy[name], 'gzip'),
    ]),
  ]),
);

const GOALS = { performance: 95, accessibility: 100, 'best-practices': 95 } as const;
let audit: AuditResult | undefined;
if (process.env.BENCH_WEB_LIGHTHOUSE !== '0') {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  try {
    audit = await auditWebApp();
  } finally {
    await stopAll();
  }
  console.log(`\nLighthouse 12.2.3, mobile emulation, Debian Chromium (load average before: ${load}):`);
  const row = (name: string, f: AuditResult['login']) => [
    name,
    ...Object.keys(GOALS).map((k) => f.scores[k as keyof typeof GOALS]),
    f.metrics.fcpMs,
    f.metrics.lcpMs,
    f.metrics.tbtMs,
    f.metrics.cls,
  ];
  console.log(
    table([
      ['page', 'performance', 'accessibility', 'best practices', 'FCP ms', 'LCP ms', 'TBT ms', 'CLS'],
      row('login', audit.login),
      row('feed (seeded user)', audit.feed),
      [
        'goal',
        `>= ${GOALS.performance}`,
        GOALS.accessibility,
        `>= ${GOALS['best-practices']}`,
        '',
        '',
        '',
        '',
      ],
    ]),
  );
  for (const [name, f] of [
    ['login', audit.login],
    ['feed', audit.feed],
  ] as const) {
    const missed = Object.entries(GOALS).filter(([k, goal]) => f.scores[k as keyof typeof GOALS] < goal);
    console.log(
      `${name}: ${missed.length === 0 ? 'all goals met' : `MISSED ${missed.map(([k]) => k).join(', ')}`}${f.flagged.length ? `; flagged: ${f.flagged.join(', ')}` : ''}`,
    );
  }
  console.log(
    `\nINP in a scripted session (CPU slowed 4x, ms; entries under 16 ms are not reported, shown as 0):`,
  );
  console.log(
    table([
      ['interaction', 'INP ms'],
      ['open a post from the feed', audit.inp.openPostMs],
      ['react to the post', audit.inp.reactMs],
      ['baseline: a bare page button', audit.inp.bareButtonMs],
    ]),
  );
  console.log(`\nLayout shifts of the feed in the scripted session (${audit.feedShifts.length}):`);
  for (const shift of audit.feedShifts) console.log(`  ${shift}`);
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

const file = await writeResult('web', {
  budgetGzipKiB: BUDGET_GZIP_KIB,
  feedRoute: now.feed,
  initialFiles: now.initialFiles,
  lazy: now.lazy,
  catalogue: now.catalogue ?? null,
  compare: before ? { rev: compareRev, feedRoute: before.feed } : null,
  ...(audit
    ? { lighthouse: { login: audit.login, feed: audit.feed }, inp: audit.inp, feedShifts: audit.feedShifts }
    : {}),
});
console.log(`\nwritten to ${file}`);
