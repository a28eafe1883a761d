import pino from "pino";

// One root logger; modules take a child with their own context so every line
// says where it came from. Level from LOG_LEVEL; tests run with "silent".
const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? "silent" : "info");
export const logger = pino({ level, base: { pid: process.pid } });

export function moduleLogger(module: string) {
  return logger.child({ module });
}
