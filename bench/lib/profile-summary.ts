import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { printTable } from './report';
import { round } from './stats';

/** `node --require` this to profile a process between two SIGUSR2 (cpu-profile-preload.ts). */
export const CPU_PROFILE_PRELOAD = join(__dirname, 'cpu-profile-preload.js');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  functionName: string;
  location: string;
  selfMs: number;
  selfPercent: number;
}

function shortLocation(url: string, line: number): string {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  const short = modules >= 0 ? path.slice(modules + 'node_modules/'.length) : path;
  return `${short.replace(/^.*\/work\/main\//, '')}:${line + 1}`;
}

/** Self time per function (summed over its call sites), biggest first. */
export function topSelfTime(file: string, limit = 25): ProfileEntry[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByNode = new Map<number, number>();
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    selfByNode.set(nodeId, (selfByNode.get(nodeId) ?? 0) + delta);
  });
  const byFunction = new Map<string, ProfileEntry>();
  let totalUs = 0;
  for (const [nodeId, selfUs] of selfByNode) {
    totalUs += selfUs;
    const frame = nodes.get(nodeId)!.callFrame;
    const functionName = frame.functionName || '(anonymous)';
    const location = shortLocation(frame.url, frame.lineNumber);
    const key = `${functionName} ${location}`;
    const entry = byFunction.get(key) ?? { functionName, location, selfMs: 0, selfPercent: 0 };
    entry.selfMs += selfUs / 1000;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .map((entry) => ({ ...entry, selfPercent: (100 * entry.selfMs * 1000) / totalUs }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, limit);
}

/** Self time per package (or src/ for the router's own code). */
export function selfTimeByPackage(file: string): { owner: string; selfPercent: number }[] {
  const entries = topSelfTime(file, Number.MAX_SAFE_INTEGER);
  const byOwner = new Map<string, number>();
  for (const entry of entries) {
    const owner = entry.location.startsWith('(')
      ? entry.functionName.startsWith('(')
        ? entry.functionName
        : '(native)'
      : entry.location.startsWith('node:')
        ? 'node core'
        : entry.location.startsWith('dist/')
          ? 'router (dist/)'
          : entry.location.split('/')[0].startsWith('@')
            ? entry.location.split('/').slice(0, 2).join('/')
            : entry.location.split('/')[0];
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + entry.selfPercent);
  }
  return [...byOwner.entries()]
    .map(([owner, selfPercent]) => ({ owner, selfPercent }))
    .sort((a, b) => b.selfPercent - a.selfPercent);
}

/** Prints the top functions and packages by self time of a written profile. */
export function printProfileSummary(processLabel: string, file: string): void {
  printTable(
    `${processLabel} CPU profile, top self time (${file})`,
    ['function', 'location', 'self ms', 'self %'],
    topSelfTime(file, 25).map((entry) => [
      entry.functionName,
      entry.location,
      round(entry.selfMs),
      round(entry.selfPercent),
    ]),
  );
  printTable(
    `${processLabel} CPU profile, self time by package`,
    ['owner', 'self %'],
    selfTimeByPackage(file)
      .slice(0, 20)
      .map((entry) => [entry.owner, round(entry.selfPercent)]),
  );
}
