import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { REPO_DIR } from './helpers/process.ts';

// deploy/Dockerfile: checked by dockerfile-utils (the Dockerfile language server's validator) and
// by the hadolint rules that matter for Kith, written out here. The image itself is built and run
// by `npm run image:check`.
const DOCKERFILE = join(REPO_DIR, 'deploy/Dockerfile');
const text = readFileSync(DOCKERFILE, 'utf8');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with continuation lines joined and comments dropped. */
function instructions(source: string): Instruction[] {
  const out: Instruction[] = [];
  let current: Instruction | undefined;
  source.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!current && (line === '' || line.startsWith('#'))) return;
    if (current) {
      if (line.startsWith('#')) return;
      current.args += ` ${line.replace(/\\$/, '').trim()}`;
    } else {
      const match = /^(\w+)\s+(.*)$/.exec(line);
      if (!match) throw new Error(`line ${i + 1}: not an instruction: ${line}`);
      current = { keyword: match[1]!.toUpperCase(), args: match[2]!.replace(/\\$/, '').trim(), line: i + 1 };
    }
    if (!line.endsWith('\\')) {
      out.push(current);
      current = undefined;
    }
  });
  return out;
}

const all = instructions(text);
const stages = all.reduce<Instruction[][]>((acc, ins) => {
  if (ins.keyword === 'FROM') acc.push([]);
  acc.at(-1)?.push(ins);
  return acc;
}, []);
const final = stages.at(-1)!;
const runs = all.filter((i) => i.keyword === 'RUN').map((i) => i.args);

describe('deploy/Dockerfile', () => {
  it('has no problem the Dockerfile validator reports', () => {
    const problems = validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('takes the base image as an ARG defaulting to Node 24 slim, and builds in stages', () => {
    expect(all[0]).toMatchObject({ keyword: 'ARG', args: 'NODE_IMAGE=node:24-slim' });
    const froms = all.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^\$\{NODE_IMAGE\} AS \w+$/);
    // DL3007: never :latest
    expect(text).not.toMatch(/:latest\b/);
  });

  it('runs as a numeric non-root user, with an init, a HEALTHCHECK and OCI labels', () => {
    const user = final.filter((i) => i.keyword === 'USER').at(-1);
    expect(user?.args).toMatch(/^[1-9]\d{3,}:[1-9]\d{3,}$/); // numeric uid:gid, not root
    const entrypoint = final.find((i) => i.keyword === 'ENTRYPOINT');
    // exec form (signals reach the process), through tini
    expect(JSON.parse(entrypoint!.args)).toEqual(expect.arrayContaining(['/usr/bin/tini', '--', 'node']));
    expect(JSON.parse(final.find((i) => i.keyword === 'CMD')!.args)).toEqual(['apps/server/dist/main.js']);
    const healthcheck = final.find((i) => i.keyword === 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/CMD \["node", "\/app\/healthcheck\.mjs"\]/);
    expect(existsSync(join(REPO_DIR, 'deploy/docker/healthcheck.mjs'))).toBe(true);
    const labels = final
      .filter((i) => i.keyword === 'LABEL')
      .map((i) => i.args)
      .join(' ');
    for (const key of ['version', 'revision', 'source', 'created', 'title'])
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });

  it('ships production dependencies and compiled JavaScript only', () => {
    const build = runs.join(' ');
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm prune --omit=dev/);
    const copies = final.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.some((c) => c.includes('apps/server/dist'))).toBe(true);
    expect(copies.some((c) => /apps\/server\/src\b/.test(c))).toBe(false);
    expect(final.some((i) => i.keyword === 'ENV' && /NODE_ENV=production/.test(i.args))).toBe(true);
    // the tsx loader is never part of the start command
    expect(text).not.toMatch(/--import\s+tsx/);
  });

  it('follows the hadolint rules for apt, ADD, WORKDIR and the shell', () => {
    for (const run of runs.filter((r) => /apt-get install/.test(r))) {
      expect(run).toMatch(/apt-get install -y --no-install-recommends/); // DL3015
      for (const pkg of run.split('--no-install-recommends')[1]!.split('&&')[0]!.trim().split(/\s+/))
        expect(pkg, 'DL3008: pin apt packages').toMatch(/=/);
      expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/); // DL3009
    }
    expect(all.some((i) => i.keyword === 'ADD')).toBe(false); // DL3020
    for (const w of all.filter((i) => i.keyword === 'WORKDIR')) expect(w.args).toMatch(/^\//); // DL3000
    expect(runs.some((r) => /\bcd\s/.test(r))).toBe(false); // DL3003
    expect(runs.some((r) => /\bsudo\b/.test(r))).toBe(false); // DL3004
    // DL4006: pipes in RUN need pipefail
    if (runs.some((r) => r.includes('|'))) expect(text).toMatch(/SHELL \["\/bin\/bash", "-o", "pipefail"/);
  });

  it('keeps writes to /tmp and the data volume (read-only root filesystem)', () => {
    expect(final.some((i) => i.keyword === 'VOLUME' && i.args.includes('/data'))).toBe(true);
    expect(final.some((i) => i.keyword === 'ENV' && /DATA_DIR=\/data/.test(i.args))).toBe(true);
    const ignore = readFileSync(join(REPO_DIR, '.dockerignore'), 'utf8');
    for (const entry of ['**/node_modules', '.git', '.env', 'data']) expect(ignore).toContain(entry);
  });
});
