/**
 * The Voice SDK's `PreflightTest.Report` → the page's `PreflightReport`: the adapter (`device.ts`) and its test
 * double (`fake-device.ts`) both hand the page what this makes of a report, so what the page shows is tested
 * from an SDK-shaped report. No SDK import: the report is read defensively, field by field.
 */
import type { PreflightCandidate, PreflightReport, PreflightStats } from './types';

const QUALITIES = ['excellent', 'great', 'good', 'fair', 'degraded'] as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function stats(v: unknown): PreflightStats | undefined {
  if (!isObject(v)) return undefined;
  const average = finite(v.average);
  if (average === undefined) return undefined;
  return { average, max: finite(v.max) ?? average, min: finite(v.min) ?? average };
}

function candidate(v: unknown): PreflightCandidate | undefined {
  if (!isObject(v)) return undefined;
  const out: PreflightCandidate = {};
  for (const key of ['candidateType', 'protocol', 'networkType', 'relayProtocol'] as const) {
    const value = text(v[key]);
    if (value) out[key] = value.toLowerCase();
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function duration(v: unknown): number | undefined {
  if (!isObject(v)) return undefined;
  const d = finite(v.duration);
  if (d !== undefined) return d;
  const start = finite(v.start);
  const end = finite(v.end);
  return start !== undefined && end !== undefined ? end - start : undefined;
}

export function toPreflightReport(raw: unknown): PreflightReport {
  const r = isObject(raw) ? raw : {};
  const report: PreflightReport = { networkTiming: {}, warnings: [] };
  const quality = text(r.callQuality);
  if (quality && (QUALITIES as readonly string[]).includes(quality)) report.callQuality = quality as PreflightReport['callQuality'];
  if (text(r.edge)) report.edge = text(r.edge);
  if (text(r.selectedEdge)) report.selectedEdge = text(r.selectedEdge);
  if (text(r.callSid)) report.callSid = text(r.callSid);
  if (isObject(r.stats)) {
    const rtt = stats(r.stats.rtt);
    const jitter = stats(r.stats.jitter);
    const mos = stats(r.stats.mos);
    if (rtt && jitter && mos) report.stats = { rtt, jitter, mos };
  }
  if (typeof r.isTurnRequired === 'boolean') report.isTurnRequired = r.isTurnRequired;
  // The selected pair's local candidate says how this browser reached Twilio; without a selected pair, the
  // gathered candidates say at least which network the browser was on.
  const pair = isObject(r.selectedIceCandidatePairStats) ? r.selectedIceCandidatePairStats : undefined;
  const local = candidate(pair?.localCandidate);
  if (local) report.localCandidate = local;
  if (!local?.networkType && Array.isArray(r.iceCandidateStats)) {
    const networkType = r.iceCandidateStats.map((c) => (isObject(c) ? text(c.networkType) : undefined)).find(Boolean);
    if (networkType) report.localCandidate = { ...report.localCandidate, networkType: networkType.toLowerCase() };
  }
  if (isObject(r.networkTiming)) {
    for (const key of ['signaling', 'ice', 'dtls', 'peerConnection'] as const) {
      const d = duration(r.networkTiming[key]);
      if (d !== undefined) report.networkTiming[key] = d;
    }
  }
  if (Array.isArray(r.warnings)) {
    for (const w of r.warnings) {
      if (isObject(w) && text(w.name)) report.warnings.push({ name: text(w.name)!, description: text(w.description) ?? '' });
    }
  }
  return report;
}
