import pino, { type Logger } from "pino";

export function createLogger(level: string): Logger {
  return pino({ name: "broker", level, base: { pid: process.pid } });
}
