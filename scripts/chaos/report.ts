import type { CheckReport } from "./checks";
import type { FaultOutcome } from "./faults";
import { FAULT_KINDS } from "./schedule";

/** The run's figures as text: the recovery table, duplicates per at_least_once sink, and the closing line. Pure. */

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const secs = (v: number | undefined) => (v === undefined ? "—" : `${v.toFixed(1)} s`);

export function recoveryTable(outcomes: readonly FaultOutcome[]): string {
  const lines = ["| fault | injected | recovered | recovery p50 | recovery max |", "|---|---:|---:|---:|---:|"];
  for (const kind of FAULT_KINDS) {
    const of = outcomes.filter((o) => o.kind === kind);
    if (!of.length) continue;
    const times = of.filter((o) => o.recovered).map((o) => o.recoverySeconds!);
    lines.push(`| ${kind} | ${of.length} | ${times.length} | ${secs(percentile(times, 50))} | ${secs(percentile(times, 100))} |`);
  }
  return lines.join("\n");
}

export function sinkTable(report: CheckReport): string {
  const lines = ["| pipeline | guarantee | sink stream | reference records | written | missing | duplicates | unexpected |", "|---|---|---|---:|---:|---:|---:|---:|"];
  for (const p of report.pipelines) {
    for (const s of p.sinks) {
      const c = s.comparison;
      lines.push(`| ${p.pipeline} | ${p.guarantee} | ${s.stream} | ${c.expected} | ${c.actual} | ${c.missing} | ${c.duplicates} | ${c.unexpected} |`);
    }
    const d = p.deadLetters;
    lines.push(`| ${p.pipeline} | ${p.guarantee} | dead letters (${p.malformed} malformed) | ${d.expected} | ${d.actual} | ${d.missing} | ${d.duplicates} | ${d.unexpected} |`);
  }
  return lines.join("\n");
}

export function faultLog(outcomes: readonly FaultOutcome[]): string {
  const at = (ms: number) => `+${String(Math.floor(ms / 60_000)).padStart(2, "0")}:${((ms % 60_000) / 1000).toFixed(1).padStart(4, "0")}`;
  return [...outcomes]
    .sort((a, b) => a.atMs - b.atMs)
    .map((o) => `${at(o.atMs)} ${o.kind}: ${o.error ? `not injected (${o.error})` : o.detail} — ${o.recovered ? `recovered in ${o.recoverySeconds!.toFixed(1)} s (last: ${o.slowest})` : "NOT recovered"}`)
    .join("\n");
}

export function faultsRecovered(outcomes: readonly FaultOutcome[]): { recovered: number; total: number } {
  return { recovered: outcomes.filter((o) => o.recovered).length, total: outcomes.length };
}

/** Problems that fail the run, one line each; empty when it passed. */
export function failures(report: CheckReport, outcomes: readonly FaultOutcome[], plannedFaults: number): string[] {
  const out: string[] = [];
  if (report.acknowledgedLost) out.push(`${report.acknowledgedLost} acknowledged produce(s) missing from the sources (e.g. ${report.lostSamples.join(", ")})`);
  for (const p of report.pipelines) {
    for (const s of p.sinks) {
      const c = s.comparison;
      if (c.missing) out.push(`${s.stream}: ${c.missing} reference record(s) missing (e.g. ${c.missingSamples[0]})`);
      if (c.duplicates && p.guarantee === "exactly_once") out.push(`${s.stream} (exactly_once): ${c.duplicates} duplicate(s) (e.g. ${c.duplicateSamples[0]})`);
      if (c.unexpected) out.push(`${s.stream}: ${c.unexpected} record(s) the reference does not have (e.g. ${c.unexpectedSamples[0]})`);
      if (s.orderViolations) out.push(`${s.stream} (exactly_once): ${s.orderViolations} key(s) out of order`);
      if (s.openTransactions) out.push(`${s.stream}: a transaction was left open (committed data ends before the high watermark)`);
    }
    const d = p.deadLetters;
    if (d.missing) out.push(`${p.pipeline} dead letters: ${d.missing} missing (e.g. ${d.missingSamples[0]})`);
    if (d.duplicates && p.guarantee === "exactly_once") out.push(`${p.pipeline} dead letters (exactly_once): ${d.duplicates} duplicate(s) (e.g. ${d.duplicateSamples[0]})`);
    if (d.unexpected) out.push(`${p.pipeline} dead letters: ${d.unexpected} the reference does not have (e.g. ${d.unexpectedSamples[0]})`);
    if (p.unbalancedMinutes.length) out.push(`${p.pipeline}: reconciliation does not balance in ${p.unbalancedMinutes.length} node-minute(s) (e.g. node ${p.unbalancedMinutes[0].nodeId} at ${p.unbalancedMinutes[0].minute}: ${p.unbalancedMinutes[0].unaccounted} unaccounted)`);
    if (p.stuck) out.push(`${p.pipeline}: stuck — ${p.stuck}`);
  }
  const { recovered, total } = faultsRecovered(outcomes);
  if (recovered < plannedFaults || total < plannedFaults) out.push(`${recovered} of ${plannedFaults} faults recovered`);
  return out;
}

export function summaryLine(report: CheckReport, outcomes: readonly FaultOutcome[], plannedFaults: number): string {
  const { recovered } = faultsRecovered(outcomes);
  return `lost ${report.lost}, exactly_once duplicates ${report.exactlyOnceDuplicates}, faults recovered ${recovered}/${plannedFaults}`;
}
