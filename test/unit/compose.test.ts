import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema.js';

interface Service {
  image: string;
  profiles?: string[];
  ports?: string[];
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  deploy?: { resources?: { reservations?: { devices?: Array<{ driver: string; capabilities: string[] }> } } };
}

const root = new URL('../../', import.meta.url);
const compose = parse(readFileSync(new URL('compose.yaml', root), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const committed = configSchema.parse(JSON.parse(readFileSync(new URL('taboot.config.json', root), 'utf8')));
const defaults = configSchema.parse({});

const hostPorts = (service: Service) => (service.ports ?? []).map((mapping) => Number(mapping.split(':')[0]));
const byProfile = (profile: string) =>
  Object.values(compose.services).filter((service) => service.profiles?.includes(profile));
const teiOf = (services: Service[]) => services.find((s) => s.image.includes('text-embeddings-inference'))!;
const qdrantOf = (services: Service[]) => services.find((s) => s.image.startsWith('qdrant/qdrant:'))!;

describe('compose.yaml agrees with the default config', () => {
  it.each(['gpu', 'cpu'])('the %s profile runs TEI and Qdrant on the configured ports', (profile) => {
    const services = byProfile(profile);
    expect(services).toHaveLength(2);
    for (const config of [committed, defaults]) {
      expect(hostPorts(qdrantOf(services))).toContain(Number(new URL(config.qdrant.url).port));
      expect(hostPorts(teiOf(services))).toContain(Number(new URL(config.tei.url).port));
    }
    expect(hostPorts(qdrantOf(services))).toEqual([6333, 6334]);
    const tei = teiOf(services);
    expect(tei.command?.[tei.command.indexOf('--model-id') + 1]).toBe('Qwen/Qwen3-Embedding-0.6B');
    for (const service of services) {
      expect(service.healthcheck?.test.length).toBeGreaterThan(0);
      expect(service.volumes?.[0]?.split(':')[0]).toSatisfy((name: string) => name in compose.volumes);
    }
  });

  it('uses image tags of the right form', () => {
    const gpu = byProfile('gpu');
    expect(teiOf(gpu).image).toBe('ghcr.io/huggingface/text-embeddings-inference:89-1.9');
    expect(qdrantOf(gpu).image).toBe('qdrant/qdrant:v1.19.0-gpu-nvidia');
    const cpu = byProfile('cpu');
    expect(teiOf(cpu).image).toMatch(/^ghcr\.io\/huggingface\/text-embeddings-inference:cpu-\d+\.\d+$/);
    expect(qdrantOf(cpu).image).toMatch(/^qdrant\/qdrant:v\d+\.\d+\.\d+$/);
    for (const service of Object.values(compose.services))
      expect(service.image).not.toMatch(/:latest$|-gpu$/);
  });

  it('switches GPU indexing on with the real setting and reserves the GPU', () => {
    const qdrant = qdrantOf(byProfile('gpu'));
    expect(qdrant.environment).toEqual({ QDRANT__GPU__INDEXING: '1' });
    for (const service of byProfile('gpu')) {
      expect(service.deploy?.resources?.reservations?.devices?.[0]).toMatchObject({
        driver: 'nvidia',
        capabilities: ['gpu'],
      });
    }
    for (const service of byProfile('cpu')) expect(service.deploy).toBeUndefined();
  });

  it('commits a config equal to the defaults for everything the seed recommends', () => {
    expect(committed.collection).toEqual(defaults.collection);
    expect(committed.ingest).toEqual(defaults.ingest);
    expect(committed.search).toEqual(defaults.search);
  });
});
