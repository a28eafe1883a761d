import pino from "pino";

// One root logger; modules take a child with their own context so every line
// says where it came from. Level from LOG_LEVEL; tests run with "silent".
// LOG_DESTINATION=stderr (the CLI sets it) keeps log lines out of stdout, where
// a command prints its results.
const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? "silent" : "info");
export const logger = pino({ level, base: { pid: process.pid } }, process.env.LOG_DESTINATION === "stderr" ? pino.destination({ fd: 2, sync: true }) : undefined);

export function moduleLogger(module: string) {
  return logger.child({ module });
}
