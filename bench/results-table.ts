/**
 * The run's results: one row per figure, with the baseline taken in the same run and their ratio
 * (these machines are shared and noisy; the ratio is what stays comparable between runs), as a
 * Markdown table for people and as JSON for anything that compares runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type Row = {
  measure: string;
  /** The figure, in `unit`. */
  value: number | null;
  baseline: number | null;
  unit: 'req/s' | 'tasks/s' | 'ms';
  /** What is good: more (throughput) or less (latency). */
  better: 'higher' | 'lower';
  /** Absolute target in `unit`, or a minimum ratio to the baseline. */
  target: { atMost?: number; atLeast?: number; ratioAtLeast?: number };
  notes: string;
};

export const ratioOf = (r: Row): number | null =>
  r.value === null || r.baseline === null || r.baseline === 0 ? null : r.value / r.baseline;

export function met(r: Row): boolean | null {
  if (r.value === null) return null;
  const ratio = ratioOf(r);
  if (r.target.ratioAtLeast !== undefined && (ratio === null || ratio < r.target.ratioAtLeast)) return false;
  if (r.target.atMost !== undefined && r.value > r.target.atMost) return false;
  if (r.target.atLeast !== undefined && r.value < r.target.atLeast) return false;
  return true;
}

const num = (v: number, unit: Row['unit']) =>
  unit === 'ms' ? `${v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en')} ms` : `${Math.round(v).toLocaleString('en')} ${unit}`;

function targetText(r: Row): string {
  const parts: string[] = [];
  if (r.target.ratioAtLeast !== undefined) parts.push(`≥ ${r.target.ratioAtLeast} × baseline`);
  if (r.target.atLeast !== undefined) parts.push(`≥ ${num(r.target.atLeast, r.unit)}`);
  if (r.target.atMost !== undefined) parts.push(`≤ ${num(r.target.atMost, r.unit)}`);
  return parts.join(', ');
}

export function markdownTable(rows: Row[]): string {
  const lines = [
    '| measure | figure | baseline (same run) | ratio | target | met | notes |',
    '|---|---:|---:|---:|---|:-:|---|',
  ];
  for (const r of rows) {
    const ratio = ratioOf(r);
    const ok = met(r);
    lines.push(`| ${[
      r.measure,
      r.value === null ? 'n/a' : num(r.value, r.unit),
      r.baseline === null ? '–' : num(r.baseline, r.unit),
      ratio === null ? '–' : `${ratio.toFixed(2)}×`,
      targetText(r),
      ok === null ? '?' : ok ? 'yes' : '**no**',
      r.notes.replace(/\|/g, '\\|'),
    ].join(' | ')} |`);
  }
  return lines.join('\n');
}

export function writeJson(file: string, content: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
}
