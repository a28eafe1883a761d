/** Display formats for stream stats; pure, so they are unit-tested without a browser. */

export function formatRate(perSecond: number): string {
  if (perSecond === 0) return "0/s";
  if (perSecond < 0.1) return `${(perSecond * 60).toFixed(perSecond * 60 < 10 ? 1 : 0)}/min`;
  if (perSecond < 10) return `${perSecond.toFixed(1)}/s`;
  if (perSecond < 10_000) return `${Math.round(perSecond)}/s`;
  return `${(perSecond / 1000).toFixed(1)}k/s`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; a future time (producer clock ahead) reads "just now". */
export function formatAgo(at: number, now: number): string {
  const s = Math.floor((now - at) / 1000);
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}
