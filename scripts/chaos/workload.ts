import type { StreamSchema } from "@/lib/pipeline";
import { Random } from "./random";

/**
 * The chaos run's workload: three source streams, eleven pipelines that
 * together use every operator (half exactly_once, half at_least_once), and a
 * seeded record generator whose output can be checked afterwards — a sequence
 * number per key, event times out of order within a known bound, and ~0.3%
 * malformed records. Pure: no I/O.
 */

/** Largest distance of a record's event time from its slot (ms). Windows allow twice this and more (WINDOW_OUT_OF_ORDERNESS). */
export const EVENT_TIME_JITTER_MS = 1_500;
/**
 * The windows' maxOutOfOrderness. A record's time is at least its slot − jitter
 * and the newest time before it at most a later slot + jitter, so with a bound
 * above 2 × jitter no record is late: the window results do not depend on how
 * the records were interleaved, batched or replayed, and the reference can
 * compute them once.
 */
export const WINDOW_OUT_OF_ORDERNESS = "5s";
/** Share of malformed records (invalid JSON, wrong types, missing fields, not an object, bad UTF-8). */
export const MALFORMED_SHARE = 0.003;
/** Header that names every produced record: `<stream>/<key>/<seq>`. */
export const ID_HEADER = "chaos-id";
/** The key of the closing records written to every partition when the producer stops (see endMarker). */
export const END_KEY = "__end";

export interface SourceStreamSpec {
  name: string;
  partitions: number;
  /** Records per second this stream receives. */
  rate: number;
  schema: StreamSchema;
}

const USERS = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(2, "0")}`);
const COUNTRIES = ["SE", "DE", "FR", "US", "BR", "JP", "IN"];
const PAGES = ["/home", "/cart", "/search", ...Array.from({ length: 7 }, (_, i) => `/p/${i + 1}`)];
const SKUS = Array.from({ length: 10 }, (_, i) => `sku-${i}`);

const str = (name: string) => ({ name, type: "string" as const });
const int = (name: string, nullable = false) => ({ name, type: "int" as const, ...(nullable ? { nullable } : {}) });
const float = (name: string, nullable = false) => ({ name, type: "float" as const, ...(nullable ? { nullable } : {}) });
const ts = (name: string) => ({ name, type: "timestamp" as const });

export const CLICKS = "ods.chaos.clicks";
export const VIEWS = "ods.chaos.views";
export const ORDERS = "ods.chaos.orders";

/**
 * Source streams, 3 partitions each: the Windows read `orders` over every
 * partition, so their results depend on per-partition watermarks being right
 * (issue 17) whatever the fetch order, takeovers and replays.
 */
export const SOURCES: readonly SourceStreamSpec[] = [
  { name: CLICKS, partitions: 3, rate: 60, schema: [str("user"), int("seq"), ts("ts"), int("amount"), str("country"), str("page")] },
  { name: VIEWS, partitions: 3, rate: 50, schema: [str("user"), int("seq"), ts("ts"), str("page"), int("dur")] },
  { name: ORDERS, partitions: 3, rate: 40, schema: [str("user"), int("seq"), ts("ts"), int("amount"), str("sku")] },
];

export interface SinkStreamSpec {
  name: string;
  schema: StreamSchema;
}

export type Guarantee = "exactly_once" | "at_least_once";

export interface ChaosPipeline {
  name: string;
  guarantee: Guarantee;
  parallelism: number;
  /** Holds Window state: runs in stages (keyed scale-out, a repartition stream before each Window). */
  stateful: boolean;
  definition: { version: 1; nodes: unknown[]; edges: unknown[] };
  sinks: SinkStreamSpec[];
}

let x = 0;
const node = (id: string, type: string, config: unknown) => ({ id, type, config, position: { x: (x += 200), y: 0 } });
const edge = (source: string, target: string, ports: { sourcePort?: string; targetPort?: string } = {}) => ({ source, target, ...ports });

const clicksSchema = SOURCES[0].schema;
const viewsSchema = SOURCES[1].schema;

function bigClicks(name: string, guarantee: Guarantee, parallelism: number): ChaosPipeline {
  const sink = `dwd.chaos.${name}`;
  return {
    name, guarantee, parallelism, stateful: false,
    definition: {
      version: 1,
      nodes: [
        node("clicks", "source", { stream: CLICKS }),
        node("big", "filter", { predicate: 'amount > 2500 && country != "SE"' }),
        node("shape", "projection", {
          fields: [
            { name: "user", from: "user" },
            { name: "seq", from: "seq" },
            { name: "seq_text", from: "seq", cast: "string" },
            { name: "cents", from: "amount" },
            { name: "eur", expr: "double(amount) / 100.0" },
            // Fails (division by zero) for every 50th amount: those records are dead letters of this node.
            { name: "per_mille", expr: "1000 / (amount % 50)" },
            { name: "hour", expr: "ts.getHours()" },
          ],
        }),
        node("out", "sink", { stream: sink }),
      ],
      edges: [edge("clicks", "big"), edge("big", "shape"), edge("shape", "out")],
    },
    sinks: [{ name: sink, schema: [str("user"), int("seq"), str("seq_text"), int("cents"), float("eur"), int("per_mille"), int("hour")] }],
  };
}

function unionActivity(name: string, guarantee: Guarantee, parallelism: number): ChaosPipeline {
  const sink = `dwd.chaos.${name}`;
  return {
    name, guarantee, parallelism, stateful: false,
    definition: {
      version: 1,
      nodes: [
        node("clicks", "source", { stream: CLICKS }),
        node("views", "source", { stream: VIEWS }),
        node("both", "union", { sourceField: "origin" }),
        node("shape", "projection", {
          fields: ["user", "seq", "ts", "origin", "page", "amount", "dur"].map((f) => ({ name: f, from: f })),
        }),
        node("out", "sink", { stream: sink }),
      ],
      edges: [edge("clicks", "both", { targetPort: "clicks" }), edge("views", "both", { targetPort: "views" }), edge("both", "shape"), edge("shape", "out")],
    },
    sinks: [{ name: sink, schema: [str("user"), int("seq"), ts("ts"), str("origin"), str("page"), int("amount", true), int("dur", true)] }],
  };
}

/** Every pipeline of the run. Names are unique; sink streams belong to one pipeline each. */
export function chaosPipelines(): ChaosPipeline[] {
  x = 0;
  return [
    bigClicks("big-clicks-eo", "exactly_once", 3),
    bigClicks("big-clicks-al", "at_least_once", 2),
    {
      name: "clicks-by-region-eo", guarantee: "exactly_once", parallelism: 3, stateful: false,
      definition: {
        version: 1,
        nodes: [
          node("clicks", "source", { stream: CLICKS }),
          node("region", "split", { mode: "first", unmatched: "else", outputs: [{ name: "eu", condition: 'country in ["SE", "DE", "FR"]' }, { name: "us", condition: 'country == "US"' }] }),
          node("eu", "sink", { stream: "dwd.chaos.clicks-eu-eo" }),
          node("us", "sink", { stream: "dwd.chaos.clicks-us-eo" }),
          node("rest", "sink", { stream: "dwd.chaos.clicks-rest-eo" }),
        ],
        edges: [edge("clicks", "region"), edge("region", "eu", { sourcePort: "eu" }), edge("region", "us", { sourcePort: "us" }), edge("region", "rest", { sourcePort: "else" })],
      },
      sinks: ["eu", "us", "rest"].map((s) => ({ name: `dwd.chaos.clicks-${s}-eo`, schema: clicksSchema })),
    },
    {
      name: "views-split-al", guarantee: "at_least_once", parallelism: 3, stateful: false,
      definition: {
        version: 1,
        nodes: [
          node("views", "source", { stream: VIEWS }),
          node("kinds", "split", { mode: "all", unmatched: "else", outputs: [{ name: "long", condition: "dur > 1200" }, { name: "home", condition: 'page == "/home"' }] }),
          node("long", "sink", { stream: "dwd.chaos.views-long-al" }),
          node("home", "sink", { stream: "dwd.chaos.views-home-al" }),
          node("rest", "sink", { stream: "dwd.chaos.views-rest-al" }),
        ],
        edges: [edge("views", "kinds"), edge("kinds", "long", { sourcePort: "long" }), edge("kinds", "home", { sourcePort: "home" }), edge("kinds", "rest", { sourcePort: "else" })],
      },
      sinks: ["long", "home", "rest"].map((s) => ({ name: `dwd.chaos.views-${s}-al`, schema: viewsSchema })),
    },
    unionActivity("activity-eo", "exactly_once", 2),
    unionActivity("activity-al", "at_least_once", 3),
    {
      name: "orders-per-user-eo", guarantee: "exactly_once", parallelism: 2, stateful: true,
      definition: {
        version: 1,
        nodes: [
          node("orders", "source", { stream: ORDERS }),
          node("per_user", "window", {
            window: { kind: "tumbling", size: "2s" }, timeField: "ts", maxOutOfOrderness: WINDOW_OUT_OF_ORDERNESS,
            keys: [{ name: "user", expr: "user" }],
            aggregates: [
              { name: "n", fn: "count" },
              { name: "total", fn: "sum", field: "amount" },
              { name: "biggest", fn: "max", field: "amount" },
              { name: "skus", fn: "count_distinct", field: "sku" },
            ],
          }),
          node("out", "sink", { stream: "dws.chaos.orders-per-user-eo" }),
          node("late", "sink", { stream: "dws.chaos.orders-late-eo" }),
        ],
        edges: [edge("orders", "per_user"), edge("per_user", "out"), edge("per_user", "late", { sourcePort: "late" })],
      },
      sinks: [
        { name: "dws.chaos.orders-per-user-eo", schema: [str("user"), ts("window_start"), ts("window_end"), int("n"), int("total"), int("biggest", true), int("skus")] },
        { name: "dws.chaos.orders-late-eo", schema: SOURCES[2].schema },
      ],
    },
    {
      name: "sku-sliding-eo", guarantee: "exactly_once", parallelism: 1, stateful: true,
      definition: {
        version: 1,
        nodes: [
          node("orders", "source", { stream: ORDERS }),
          node("big", "filter", { predicate: "amount > 1000" }),
          node("per_sku", "window", {
            window: { kind: "hopping", size: "6s", slide: "2s" }, timeField: "ts", maxOutOfOrderness: WINDOW_OUT_OF_ORDERNESS,
            keys: [{ name: "sku", expr: "sku" }],
            aggregates: [
              { name: "n", fn: "count" },
              { name: "revenue", fn: "sum", field: "amount" },
              { name: "buyers", fn: "count_distinct", field: "user" },
              { name: "avg_amount", fn: "avg", field: "amount" },
            ],
          }),
          node("out", "sink", { stream: "dws.chaos.sku-sliding-eo" }),
        ],
        edges: [edge("orders", "big"), edge("big", "per_sku"), edge("per_sku", "out")],
      },
      sinks: [{ name: "dws.chaos.sku-sliding-eo", schema: [str("sku"), ts("window_start"), ts("window_end"), int("n"), int("revenue"), int("buyers"), float("avg_amount", true)] }],
    },
    {
      name: "scores-al", guarantee: "at_least_once", parallelism: 3, stateful: false,
      definition: {
        version: 1,
        nodes: [
          node("clicks", "source", { stream: CLICKS }),
          node("score", "udf", {
            function: {
              inline: {
                form: "map",
                // Throws for every 997th amount: those records are dead letters of the UDF node.
                source: '(r) => { if (r.amount % 997 === 0) throw new Error("amount " + r.amount + " is cursed"); return { user: r.user, seq: r.seq, score: r.amount * 3 + r.page.length }; }',
              },
            },
            outputSchema: [str("user"), int("seq"), int("score")],
          }),
          node("out", "sink", { stream: "dwd.chaos.scores-al" }),
        ],
        edges: [edge("clicks", "score"), edge("score", "out")],
      },
      sinks: [{ name: "dwd.chaos.scores-al", schema: [str("user"), int("seq"), int("score")] }],
    },
    {
      name: "view-parts-eo", guarantee: "exactly_once", parallelism: 2, stateful: false,
      definition: {
        version: 1,
        nodes: [
          node("views", "source", { stream: VIEWS }),
          node("engaged", "filter", { predicate: "dur > 300" }),
          node("parts", "udf", {
            function: { inline: { form: "flatMap", source: "(r) => Array.from({ length: r.dur % 3 }, (_, i) => ({ user: r.user, seq: r.seq, part: i, page: r.page }))" } },
            outputSchema: [str("user"), int("seq"), int("part"), str("page")],
          }),
          node("out", "sink", { stream: "dwd.chaos.view-parts-eo" }),
        ],
        edges: [edge("views", "engaged"), edge("engaged", "parts"), edge("parts", "out")],
      },
      sinks: [{ name: "dwd.chaos.view-parts-eo", schema: [str("user"), int("seq"), int("part"), str("page")] }],
    },
    {
      name: "orders-clean-al", guarantee: "at_least_once", parallelism: 1, stateful: false,
      definition: {
        version: 1,
        nodes: [
          node("orders", "source", { stream: ORDERS }),
          node("shape", "projection", {
            fields: [
              { name: "user", from: "user" },
              { name: "seq", from: "seq" },
              { name: "ts", from: "ts" },
              { name: "amount", from: "amount" },
              { name: "sku", expr: "sku.upperAscii()" },
              { name: "big", expr: "amount > 5000" },
            ],
          }),
          node("out", "sink", { stream: "dwd.chaos.orders-clean-al" }),
        ],
        edges: [edge("orders", "shape"), edge("shape", "out")],
      },
      sinks: [{ name: "dwd.chaos.orders-clean-al", schema: [str("user"), int("seq"), ts("ts"), int("amount"), str("sku"), { name: "big", type: "bool" }] }],
    },
  ];
}

/** A record to produce: key, value bytes, and its id header. */
export interface ProducedRecord {
  stream: string;
  key: string;
  value: Buffer;
  id: string;
  /** Event time (undefined for malformed records that carry none). */
  ts?: number;
  malformed?: string;
  /** Explicit partition (end markers only); otherwise the key decides. */
  partition?: number;
}

const MALFORMED_KINDS = ["truncated-json", "wrong-type", "missing-field", "not-an-object", "bad-utf8"] as const;

/**
 * Generates one stream's records in order. Record i's event time is its slot
 * `t0 + i × 1000 / rate` plus a jitter in ±EVENT_TIME_JITTER_MS, so records
 * arrive out of order but never later than the windows' bound allows.
 * Deterministic for a given seed, t0 and index.
 */
export class StreamGenerator {
  private readonly rnd: Random;
  private readonly seqs = new Map<string, number>();
  private index = 0;
  maxTs = 0;

  constructor(readonly spec: SourceStreamSpec, seed: number, private readonly t0: number) {
    this.rnd = new Random(seed);
  }

  /** How many records are due `elapsedMs` after t0. */
  dueAt(elapsedMs: number): number {
    return Math.floor((elapsedMs * this.spec.rate) / 1000);
  }

  get produced(): number {
    return this.index;
  }

  next(): ProducedRecord {
    const r = this.rnd;
    const i = this.index++;
    const user = r.pick(USERS);
    const seq = this.seqs.get(user) ?? 0;
    this.seqs.set(user, seq + 1);
    const ts = this.t0 + Math.floor((i * 1000) / this.spec.rate) + r.int(-EVENT_TIME_JITTER_MS, EVENT_TIME_JITTER_MS);
    this.maxTs = Math.max(this.maxTs, ts);
    const value: Record<string, unknown> = { user, seq, ts };
    if (this.spec.name === CLICKS) Object.assign(value, { amount: r.int(1, 5000), country: r.pick(COUNTRIES), page: r.pick(PAGES) });
    else if (this.spec.name === VIEWS) Object.assign(value, { page: r.pick(PAGES), dur: r.int(1, 2000) });
    else Object.assign(value, { amount: r.int(1, 10_000), sku: r.pick(SKUS) });
    const id = `${this.spec.name}/${user}/${seq}`;
    if (!r.chance(MALFORMED_SHARE)) return { stream: this.spec.name, key: user, value: Buffer.from(JSON.stringify(value)), id, ts };
    const kind = r.pick(MALFORMED_KINDS);
    const text = JSON.stringify(value);
    const bytes =
      kind === "truncated-json" ? Buffer.from(text.slice(0, Math.max(1, text.length - r.int(1, 10))))
      : kind === "wrong-type" ? Buffer.from(JSON.stringify({ ...value, seq: `#${seq}` }))
      : kind === "missing-field" ? Buffer.from(JSON.stringify({ ...value, ts: undefined }))
      : kind === "not-an-object" ? Buffer.from(JSON.stringify([user, seq, ts]))
      : Buffer.concat([Buffer.from(text.slice(0, 5)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(text.slice(5))]);
    return { stream: this.spec.name, key: user, value: bytes, id, malformed: kind };
  }

  /**
   * The closing record for one partition, written when the producer stops:
   * its event time is far past every other record's, so it moves that
   * partition's watermark beyond every window holding real records and they
   * all close. Its own windows stay open, in the pipelines and in the
   * reference alike.
   */
  endMarker(partition: number): ProducedRecord {
    const ts = this.maxTs + 10 * 60_000;
    const value: Record<string, unknown> = { user: END_KEY, seq: partition, ts };
    if (this.spec.name === CLICKS) Object.assign(value, { amount: 1, country: "SE", page: "/end" });
    else if (this.spec.name === VIEWS) Object.assign(value, { page: "/end", dur: 1 });
    // Orders: an amount that passes sku-sliding-eo's Filter, so the marker reaches its Window on every
    // partition (a Window's watermark is the minimum over its partitions: one without a marker would
    // keep its last windows open in the pipeline while the reference, with one watermark, closes them).
    else Object.assign(value, { amount: 2000, sku: "sku-end" });
    return { stream: this.spec.name, key: END_KEY, value: Buffer.from(JSON.stringify(value)), id: `${this.spec.name}/${END_KEY}/${partition}`, ts, partition };
  }
}
