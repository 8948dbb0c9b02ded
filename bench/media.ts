/**
 * Image processing: 12 MP JPEGs re-encoded per second per core by the media job's processor
 * (auto-orient, 1,600 px and 320 px WebP variants, blurhash), and the peak resident memory of a
 * worker process during a burst of uploads — all started at once, as 50 queued jobs picked up
 * together would be. Peak memory must be set by MEDIA_PROCESS_CONCURRENCY, not by the burst's size:
 * a burst of 10 and a burst of 50 at the same concurrency should peak at about the same RSS.
 *
 * Each scenario runs in a fresh child process so that its peak RSS (VmHWM) is its own.
 *
 *   node --import tsx bench/media.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round, table, writeResult } from './lib/report.ts';

const WIDTH = 4000;
const HEIGHT = 3000; // 12 MP
const MAX_PIXELS = 40_000_000;
const SCENARIOS = [
  { concurrency: 1, burst: 10 },
  { concurrency: 2, burst: 10 },
  { concurrency: 2, burst: 50 },
];

interface Outcome {
  concurrency: number;
  burst: number;
  seconds: number;
  imagesPerSecond: number;
  baselineRssMiB: number;
  peakRssMiB: number;
}

/** VmHWM: the process's peak resident set size so far, in MiB. */
async function peakRssMiB(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return Number.isNaN(kib) ? process.memoryUsage().rss / 2 ** 20 : kib / 1024;
}

async function child(file: string, concurrency: number, burst: number): Promise<void> {
  const { ImageProcessor } = await import('../apps/server/src/modules/media/image-processor.ts');
  const processor = new ImageProcessor({ maxPixels: MAX_PIXELS, concurrency });
  const baseline = await peakRssMiB();
  const started = performance.now();
  await Promise.all(Array.from({ length: burst }, () => processor.process(file)));
  const seconds = (performance.now() - started) / 1000;
  const outcome: Outcome = {
    concurrency,
    burst,
    seconds: round(seconds, 2),
    imagesPerSecond: round(burst / seconds, 2),
    baselineRssMiB: round(baseline),
    peakRssMiB: round(await peakRssMiB()),
  };
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

function runChild(file: string, concurrency: number, burst: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', file, String(concurrency), String(burst)],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, UV_THREADPOOL_SIZE: '4' } },
    );
    let out = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5 * 60_000);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`scenario exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as Outcome);
    });
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-media-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    void cleanup().then(() => process.exit(130));
  });
  try {
    const sharp = (await import('sharp')).default;
    // a photo-like 12 MP JPEG (noise compresses like a real photo, unlike a flat colour)
    const noise = await sharp({
      create: {
        width: WIDTH,
        height: HEIGHT,
        channels: 3,
        background: '#6080a0',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .jpeg({ quality: 85 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const file = join(dir, 'photo-12mp.jpg');
    await writeFile(file, noise);
    console.log(`12 MP JPEG: ${round(noise.length / 2 ** 20, 2)} MiB; ${cpus().length} cores`);

    const outcomes: Outcome[] = [];
    for (const { concurrency, burst } of SCENARIOS) {
      const outcome = await runChild(file, concurrency, burst);
      outcomes.push(outcome);
      console.log(
        `  concurrency ${concurrency}, burst ${burst}: ${outcome.imagesPerSecond} images/s, peak RSS ${outcome.peakRssMiB} MiB`,
      );
    }
    console.log(
      table([
        ['concurrency', 'burst', 'seconds', 'images/s', 'RSS before (MiB)', 'peak RSS (MiB)'],
        ...outcomes.map((o) => [
          o.concurrency,
          o.burst,
          o.seconds,
          o.imagesPerSecond,
          o.baselineRssMiB,
          o.peakRssMiB,
        ]),
      ]),
    );
    const perCore = outcomes[0]!.imagesPerSecond;
    const [small, large] = [outcomes[1]!, outcomes[2]!];
    console.log(`12 MP JPEGs per second per core (one libvips thread): ${perCore}`);
    console.log(
      `peak RSS at concurrency 2: burst 10 → ${small.peakRssMiB} MiB, burst 50 → ${large.peakRssMiB} MiB (ratio ${round(large.peakRssMiB / small.peakRssMiB, 2)})`,
    );
    const path = await writeResult('media', {
      image: { width: WIDTH, height: HEIGHT, bytes: noise.length },
      sharp: execFileSync(process.execPath, ['-e', "console.log(require('sharp').versions.vips)"], {
        cwd: join(fileURLToPath(import.meta.url), '..', '..', 'apps', 'server'),
      })
        .toString()
        .trim(),
      imagesPerSecondPerCore: perCore,
      scenarios: outcomes,
      peakRssRatioBurst50To10: round(large.peakRssMiB / small.peakRssMiB, 2),
    });
    console.log(`results: ${path}`);
  } finally {
    await cleanup();
  }
}

if (process.argv[2] === 'child') {
  await child(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
} else {
  await main();
}
