// Prometheus text metrics. Counters live in the isolate (a Worker has no shared process), so each
// isolate reports its own since start; the scraper sums. Durable per-hour totals are in the
// HourlyAggregator.

type Labels = Record<string, string>;

const counters = new Map<string, { help: string; values: Map<string, number> }>();
export const DURATION_BUCKETS_MS = [5, 10, 25, 50, 100, 200, 500, 1000, 2500];
const durations = new Map<string, { counts: number[]; sum: number; count: number }>();

const HELP: Record<string, string> = {
  twist_edge_requests_total: "HTTP requests by route and status",
  twist_edge_vau_total: "VAU outcomes (accepted, duplicate, rate_limited, invalid)",
  twist_edge_earned_base_units_total: "Base units of TWIST put on the reward queue",
  twist_edge_reward_messages_total: "Reward messages sent to the queue",
  twist_edge_consumer_messages_total: "Queue consumer outcomes per message (acked, retried, dead_lettered)",
};

export function inc(name: keyof typeof HELP | string, labels: Labels = {}, by = 1): void {
  let c = counters.get(name);
  if (!c) {
    c = { help: HELP[name] ?? name, values: new Map() };
    counters.set(name, c);
  }
  const key = labelText(labels);
  c.values.set(key, (c.values.get(key) ?? 0) + by);
}

export function observeDuration(route: string, ms: number): void {
  let h = durations.get(route);
  if (!h) {
    h = { counts: DURATION_BUCKETS_MS.map(() => 0), sum: 0, count: 0 };
    durations.set(route, h);
  }
  DURATION_BUCKETS_MS.forEach((le, i) => {
    if (ms <= le) h.counts[i]! += 1;
  });
  h.sum += ms;
  h.count += 1;
}

export function metricsText(): string {
  const lines: string[] = [];
  for (const [name, c] of counters) {
    lines.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
    for (const [labels, value] of c.values) lines.push(`${name}${labels} ${value}`);
  }
  const hist = "twist_edge_request_duration_ms";
  lines.push(`# HELP ${hist} Time to answer (the isolate's own clock; I/O time only)`, `# TYPE ${hist} histogram`);
  for (const [route, h] of durations) {
    DURATION_BUCKETS_MS.forEach((le, i) => {
      lines.push(`${hist}_bucket${labelText({ route, le: String(le) })} ${h.counts[i]}`);
    });
    lines.push(`${hist}_bucket${labelText({ route, le: "+Inf" })} ${h.count}`);
    lines.push(`${hist}_sum${labelText({ route })} ${h.sum}`, `${hist}_count${labelText({ route })} ${h.count}`);
  }
  return `${lines.join("\n")}\n`;
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}
