/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`): the functions with the most self
 * time, so a benchmark can say where a process spent its CPU without opening DevTools.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** `name (file:line)`, the file relative to the project when it is ours. */
  fn: string;
  /** Self time, ms. */
  ms: number;
  /** Share of the profile's non-idle time. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time that was not idle, ms. */
  busyMs: number;
  /** Sampled wall time of the profile, ms. */
  wallMs: number;
  top: SelfTime[];
}

/** Top `count` functions by self time in `file`; `(idle)` is left out of the shares. */
export function summariseProfile(file: string, count = 5): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  let busyUs = 0;
  // V8 records each sample's delta before the sample: delta i belongs to sample i.
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byNode.get(profile.samples[i]!);
    const delta = profile.timeDeltas[i + 1] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busyUs += delta;
    const key = label(node);
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
  }
  const top = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), share: Number((us / busyUs).toFixed(3)) }));
  return {
    busyMs: Math.round(busyUs / 1000),
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    top,
  };
}

/** The one `.cpuprofile` a process wrote into `dir`. */
export function profileIn(dir: string): string {
  const found = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  if (found.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return path.join(dir, found.sort().at(-1)!);
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const marker = url.lastIndexOf('/dist/');
  const modules = url.lastIndexOf('/node_modules/');
  const file =
    modules >= 0 ? url.slice(modules + '/node_modules/'.length) : marker >= 0 ? url.slice(marker + 1) : url;
  return `${name} (${file}:${lineNumber + 1})`;
}
