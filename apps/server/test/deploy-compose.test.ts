import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema } from '../src/config.ts';
import { REPO_DIR } from './helpers/process.ts';

// deploy/compose.yaml: the structure a production Compose deployment needs, checked here, and
// `docker-compose config` (Debian's v1, when installed) for the file format itself.
const DEPLOY = join(REPO_DIR, 'deploy');
const FILE = join(DEPLOY, 'compose.yaml');
const compose = parse(readFileSync(FILE, 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean }>;
  secrets: Record<string, { file: string }>;
};
interface Service {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  networks?: string[] | Record<string, unknown>;
  ports?: string[];
  secrets?: (string | { source: string })[];
  volumes?: string[];
  read_only?: boolean;
  user?: string;
  cap_drop?: string[];
  restart?: string;
}
const services = Object.entries(compose.services);
const networksOf = (s: Service) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {}));
const ONE_SHOT = ['migrate', 'minio-init'];
const KITH = services.filter(([, s]) => s.image.startsWith('${KITH_IMAGE'));
const DOCKER_COMPOSE = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) =>
  existsSync(p),
);

describe('deploy/compose.yaml', () => {
  it('runs the whole scaled topology', () => {
    const names = Object.keys(compose.services);
    for (const name of [
      'postgres-primary',
      'postgres-replica',
      'pgbouncer',
      'redis',
      'minio',
      'nginx',
      'migrate',
      'prometheus',
      'grafana',
      'otel-collector',
    ])
      expect(names).toContain(name);
    const roleOf = (s: Service) => s.command?.[s.command.indexOf('--role') + 1];
    const roles = KITH.filter(([, s]) => s.command?.includes('--role')).map(([, s]) => roleOf(s));
    expect(roles.sort()).toEqual(['api', 'api', 'realtime', 'realtime', 'worker']);
    expect(compose.services.migrate!.command).toEqual(['apps/server/dist/cli/migrate.js']);
  });

  it('pins every image (no :latest, no bare name) and takes Kith by tag or digest from the environment', () => {
    for (const [name, s] of services) {
      if (s.image.startsWith('${KITH_IMAGE')) {
        expect(s.image, name).toMatch(/^\$\{KITH_IMAGE:\?/);
        continue;
      }
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]*\d[\w.-]*$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
  });

  it('has a healthcheck on every long-running service, and waits on health or completion', () => {
    for (const [name, s] of services) {
      if (!ONE_SHOT.includes(name)) {
        expect(s.healthcheck?.test, `${name} healthcheck`).toBeDefined();
        expect(s.restart, name).toBe('unless-stopped');
      }
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(compose.services[dep], `${name} depends on ${dep}`).toBeDefined();
        expect(condition, `${name} → ${dep}`).toBe(
          ONE_SHOT.includes(dep) ? 'service_completed_successfully' : 'service_healthy',
        );
      }
    }
    // the app waits for the migration job
    for (const [name, s] of KITH.filter(([n]) => n !== 'migrate'))
      expect(s.depends_on?.migrate?.condition, name).toBe('service_completed_successfully');
  });

  it('keeps data services on internal networks with no published ports', () => {
    expect(compose.networks.data?.internal).toBe(true);
    for (const name of ['postgres-primary', 'postgres-replica', 'pgbouncer', 'redis', 'minio']) {
      const s = compose.services[name]!;
      expect(s.ports, name).toBeUndefined();
      for (const net of networksOf(s))
        expect(compose.networks[net]?.internal, `${name} on ${net}`).toBe(true);
    }
    const published = services.filter(([, s]) => s.ports?.length).map(([n]) => n);
    expect(published.sort()).toEqual(['grafana', 'nginx']);
    expect(compose.services.grafana!.ports!.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
  });

  it('runs Kith hardened: read-only root, numeric non-root user, no capabilities', () => {
    expect(KITH.length).toBe(6);
    for (const [name, s] of KITH) {
      expect(s.read_only, name).toBe(true);
      expect(s.user, name).toMatch(/^[1-9]\d+:[1-9]\d+$/);
      expect(s.cap_drop, name).toEqual(['ALL']);
    }
  });

  it('passes secrets as files (*_FILE) only, each one defined', () => {
    const known = new Set(Object.keys(EnvSchema.properties));
    for (const [name, s] of services) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|SECRET|TOKEN|SIGNING_KEY|DATABASE_URL|DATABASE_READ_URLS/.test(key))
          expect(key, `${name}: ${key}`).toMatch(/_FILE$/);
        if (key.endsWith('_FILE') && String(value).startsWith('/run/secrets/')) {
          const secret = String(value).slice('/run/secrets/'.length);
          const names = (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source));
          expect(names, `${name} mounts ${secret}`).toContain(secret);
        }
      }
      for (const secret of s.secrets ?? [])
        expect(compose.secrets[typeof secret === 'string' ? secret : secret.source], name).toBeDefined();
    }
    // Kith's variables are all real configuration keys (a typo would be ignored silently)
    for (const [name, s] of KITH)
      for (const key of Object.keys(s.environment ?? {}))
        expect(known.has(key.replace(/_FILE$/, '')), `${name}: ${key}`).toBe(true);
    for (const { file } of Object.values(compose.secrets)) expect(file).toMatch(/^\.\/secrets\//);
  });

  it('migrates and runs the worker over a direct connection, serves requests through PgBouncer', () => {
    expect(compose.services.migrate!.environment!.DATABASE_URL_FILE).toBe('/run/secrets/database_url_direct');
    expect(compose.services.worker!.environment!.DATABASE_URL_FILE).toBe('/run/secrets/database_url_direct');
    for (const name of ['api-1', 'api-2', 'realtime-1', 'realtime-2'])
      expect(compose.services[name]!.environment!.DATABASE_URL_FILE, name).toBe(
        '/run/secrets/database_url_pooled',
      );
    const secrets = readFileSync(join(REPO_DIR, 'scripts/compose-secrets.sh'), 'utf8');
    expect(secrets).toMatch(/database_url_direct "postgres:\/\/kith:\$pw@postgres-primary:5432/);
    expect(secrets).toMatch(/database_url_pooled "postgres:\/\/kith:\$pw@pgbouncer:6432/);
  });

  it('mounts only files that exist in the repository, and renders nginx from the shared template', () => {
    for (const [name, s] of services)
      for (const volume of s.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.') || source.includes('apps/web/dist')) continue;
        expect(existsSync(resolve(dirname(FILE), source)), `${name}: ${source}`).toBe(true);
      }
    const nginx = compose.services.nginx!;
    expect(nginx.volumes).toContain('./nginx/kith.conf.template:/etc/nginx/templates/kith.conf.template:ro');
    const template = readFileSync(join(DEPLOY, 'nginx/kith.conf.template'), 'utf8');
    const placeholders = new Set([...template.matchAll(/\$\{(KITH_[A-Z0-9_]+)\}/g)].map((m) => m[1]!));
    for (const p of placeholders) expect(Object.keys(nginx.environment!), p).toContain(p);
  });

  it.skipIf(!DOCKER_COMPOSE)('is valid for docker-compose config', () => {
    const result = spawnSync(
      DOCKER_COMPOSE!,
      ['-f', FILE, '--env-file', join(DEPLOY, 'compose.env.example'), 'config', '-q'],
      { encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
if (!DOCKER_COMPOSE)
  console.warn(
    'deploy-compose: `docker-compose config` skipped, not installed (apt-get install docker-compose)',
  );
