import { InvalidArgumentError, type Command } from "commander";
import { actingFor, intOption, type Cli } from "../context";

/** "12.5" → 12.5; anything else is a usage error (commander hands options over as text). */
function numberOption(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("expected a number.");
  return n;
}

const pad = (rows: string[][]) => {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
};

/** `sluice alert …`: alert rules, channels and history (lib/alerts; same rules as REST). */
export function register(program: Command, { io }: Cli): void {
  const alert = program.command("alert").description("manage alert rules, notification channels and history");
  alert
    .command("create")
    .description("create an alert rule on a pipeline or a stream")
    .requiredOption("--team <slug>", "team slug")
    .requiredOption("--name <name>", "rule name, e.g. orders-lag")
    .option("--pipeline <name>", "pipeline to watch")
    .option("--stream <name>", "stream to watch (no_input, throughput_below)")
    .requiredOption("--condition <condition>", "consumer_lag | error_rate | no_input | task_failures | reconciliation_mismatch | throughput_below")
    .option("--threshold <n>", "records behind, % dead-lettered, restarts allowed, or records/s", numberOption)
    .option("--for <duration>", "how long it must hold (level conditions) or the window (others): 30s, 5m, 1h", "1m")
    .option("--channel <name...>", "channels to notify besides the inbox")
    .action(async (o: { team: string; name: string; pipeline?: string; stream?: string; condition: string; threshold?: number; for: string; channel?: string[] }) => {
      const { createRule } = await import("@/lib/alerts/rules");
      const r = await createRule(await actingFor(o.team), o.team, {
        name: o.name, pipeline: o.pipeline, stream: o.stream, condition: o.condition as never, threshold: o.threshold, for: o.for, channels: o.channel ?? [],
      });
      io.out(`Created rule ${r.name}: ${r.target.kind} ${r.target.name} — ${r.description}; notifies inbox${r.channels.length ? `, ${r.channels.join(", ")}` : ""}.`);
    });
  alert
    .command("list")
    .description("list the team's alert rules with their state")
    .requiredOption("--team <slug>", "team slug")
    .option("--json", "print JSON")
    .action(async (o: { team: string; json?: boolean }) => {
      const { listRules } = await import("@/lib/alerts/rules");
      const rules = await listRules(await actingFor(o.team), o.team);
      if (o.json) return io.out(JSON.stringify(rules, null, 2));
      if (!rules.length) return io.err(`Team ${o.team} has no alert rules: create one with \`sluice alert create\`.`);
      for (const l of pad([["NAME", "WATCHES", "STATE", "NOW", "CONDITION", "CHANNELS"], ...rules.map((r) => [r.name, `${r.target.kind} ${r.target.name}`, r.state, r.lastValue === null ? "-" : String(r.lastValue), r.description, ["inbox", ...r.channels].join(",")])])) io.out(l);
    });
  alert
    .command("delete")
    .description("delete an alert rule (and its history)")
    .requiredOption("--team <slug>", "team slug")
    .requiredOption("--name <name>", "rule name")
    .action(async (o: { team: string; name: string }) => {
      const { deleteRule } = await import("@/lib/alerts/rules");
      await deleteRule(await actingFor(o.team), o.team, o.name);
      io.out(`Deleted rule ${o.name}.`);
    });
  alert
    .command("history")
    .description("state changes of the team's rules (or one rule), newest first, with their deliveries")
    .requiredOption("--team <slug>", "team slug")
    .option("--name <name>", "only this rule")
    .option("--limit <n>", "at most this many", intOption, 50)
    .option("--json", "print JSON")
    .action(async (o: { team: string; name?: string; limit: number; json?: boolean }) => {
      const { alertHistory } = await import("@/lib/alerts/inbox");
      const events = await alertHistory(await actingFor(o.team), o.team, { rule: o.name, limit: o.limit });
      if (o.json) return io.out(JSON.stringify(events, null, 2));
      if (!events.length) return io.err("Nothing has happened yet.");
      for (const l of pad([["AT", "RULE", "EVENT", "DELIVERIES", "MESSAGE"], ...events.map((e) => [e.at.toISOString(), e.rule.name, e.kind, e.deliveries.map((d) => `${d.channel}:${d.status}`).join(",") || "-", e.message])])) io.out(l);
    });
  const channel = alert.command("channel").description("manage notification channels (webhook, e-mail)");
  channel
    .command("create")
    .description("create a webhook or e-mail channel; a webhook's signing secret is printed once")
    .requiredOption("--team <slug>", "team slug")
    .requiredOption("--name <name>", "channel name")
    .option("--webhook <url>", "https URL that receives signed JSON POSTs")
    .option("--email <address...>", "e-mail addresses (needs SMTP_URL)")
    .action(async (o: { team: string; name: string; webhook?: string; email?: string[] }) => {
      const { createChannel } = await import("@/lib/alerts/rules");
      if (!!o.webhook === !!o.email) throw new InvalidArgumentError("give either --webhook <url> or --email <address...>.");
      const c = await createChannel(await actingFor(o.team), o.team, o.webhook ? { kind: "webhook", name: o.name, url: o.webhook } : { kind: "email", name: o.name, to: o.email! });
      if (c.secret) {
        io.out(c.secret);
        io.err(`Channel ${c.name} → ${c.target}. That is its signing secret: store it now, it is not shown again (receivers check X-Sluice-Signature with it).`);
      } else io.out(`Channel ${c.name} → ${c.target}.`);
    });
  channel
    .command("list")
    .description("list the team's channels")
    .requiredOption("--team <slug>", "team slug")
    .action(async (o: { team: string }) => {
      const { listChannels } = await import("@/lib/alerts/rules");
      const list = await listChannels(await actingFor(o.team), o.team);
      for (const l of pad([["NAME", "KIND", "SENDS TO"], ["inbox", "in-app", "the team's inbox (always)"], ...list.map((c) => [c.name, c.kind, c.target])])) io.out(l);
    });
  channel
    .command("delete")
    .description("delete a channel")
    .requiredOption("--team <slug>", "team slug")
    .requiredOption("--name <name>", "channel name")
    .action(async (o: { team: string; name: string }) => {
      const { deleteChannel } = await import("@/lib/alerts/rules");
      await deleteChannel(await actingFor(o.team), o.team, o.name);
      io.out(`Deleted channel ${o.name}.`);
    });
}
