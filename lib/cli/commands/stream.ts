import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { actingFor, intOption, userPath, type Cli } from "../context";
import { DEFAULT_TRANSACTION_BYTES } from "../produce";

/** `sluice stream …`: warehouse streams and their records. */
export function register(program: Command, { io }: Cli): void {
  const stream = program.command("stream").description("manage warehouse streams");
  stream
    .command("create")
    .description("create a stream (and its topic) owned by a team")
    .requiredOption("--team <slug>", "owner team")
    .requiredOption("--name <name>", "stream name, e.g. ods.ads.clicks")
    .requiredOption("--layer <layer>", "ODS | DWD | DWS | ADS")
    .requiredOption("--schema <json|@file>", 'field list, e.g. \'[{"name":"user_id","type":"string"}]\' or @schema.json')
    .option("--partitions <n>", "partitions", intOption, 3)
    .option("--retention-ms <ms>", "retention in ms (-1 keeps forever)", intOption)
    .option("--visibility <v>", "private | team | public", "team")
    .option("--description <text>", "markdown description", "")
    .action(async (o: { team: string; name: string; layer: "ODS"; schema: string; partitions: number; retentionMs?: number; visibility: "team"; description: string }) => {
      const { createStream } = await import("@/lib/warehouse/streams");
      const s = await createStream(await actingFor(o.team), o.team, {
        name: o.name, layer: o.layer, schema: JSON.parse(o.schema.startsWith("@") ? readFileSync(userPath(o.schema.slice(1)), "utf8") : o.schema),
        partitions: o.partitions, visibility: o.visibility, description: o.description,
        ...(o.retentionMs !== undefined ? { retentionMs: o.retentionMs < 0 ? null : o.retentionMs } : {}),
      });
      io.out(`Created stream ${s.name} (${s.layer}, ${s.partitions} partitions, schema v${s.schemaVersion})`);
    });
  stream
    .command("list")
    .description("streams a team can see")
    .requiredOption("--team <slug>", "team")
    .action(async (o: { team: string }) => {
      const { listStreams } = await import("@/lib/warehouse/streams");
      const list = await listStreams(await actingFor(o.team), o.team);
      if (!list.length) io.out("No streams yet: create one with `sluice stream create`.");
      for (const s of list) io.out(`${s.name}\t${s.layer}\t${s.ownerTeam.slug}\t${s.partitions}p\t${s.access}`);
    });
  stream
    .command("produce")
    .description("produce JSON records, one per line, from standard input or a file: all lines or none")
    .requiredOption("--team <slug>", "owner team")
    .requiredOption("--name <name>", "stream")
    .option("-f, --file <path>", "JSON-lines file (default: standard input)")
    .option("--key <field>", "use this field of each record as the Kafka key")
    .option("--max-transaction-bytes <n>", "write at most this many bytes of records per Kafka transaction", intOption, DEFAULT_TRANSACTION_BYTES)
    .addHelpText(
      "after",
      `
Every line is checked first (UTF-8, JSON, the stream's schema, the topic's record size limit, nesting);
if any has a problem, each is printed as file:line: error: field: message and nothing is written.
Then the records are written in one Kafka transaction, so readers of committed data see all lines or
none. An input with more than --max-transaction-bytes of records (64 MiB) is written in consecutive
transactions: if one fails, the error says exactly which lines were written and which were not, and
the exit code is 1.`,
    )
    .action(async (o: { team: string; name: string; file?: string; key?: string; maxTransactionBytes: number }) => {
      const { produceLines } = await import("../produce");
      await produceLines(io, await actingFor(o.team), { team: o.team, name: o.name, file: o.file ? userPath(o.file) : undefined, inputName: o.file ?? "stdin", key: o.key, maxTransactionBytes: o.maxTransactionBytes });
    });
  stream
    .command("tail")
    .description("print records as JSON lines: the newest ones, then new arrivals until Ctrl-C")
    .requiredOption("--team <slug>", "team")
    .requiredOption("--name <name>", "stream")
    .option("--last <n>", "records to show first", intOption, 10)
    .option("--no-follow", "exit after the last records")
    .action(async (o: { team: string; name: string; last: number; follow: boolean }) => {
      const { readRecords, openTail } = await import("@/lib/warehouse/records");
      const principal = await actingFor(o.team);
      const { records } = await readRecords(principal, o.team, o.name, { limit: o.last });
      for (const r of records) io.out(JSON.stringify(r));
      if (!o.follow) return;
      const ac = new AbortController();
      process.once("SIGINT", () => ac.abort());
      const tail = await openTail(principal, o.team, o.name);
      for await (const batch of tail(ac.signal)) for (const r of batch) io.out(JSON.stringify(r));
    });
}
