/**
 * A per-record evaluation failure (division by zero, null where a value is
 * needed, missing map key...). Operators turn it into an error record; it never
 * escapes a batch.
 *
 * No stack trace is captured: the reason is the message, and when a schema
 * change makes every record fail, capturing stacks made error records ~10×
 * more expensive than the records themselves.
 */
export class EvalError extends Error {
  override readonly name = "EvalError";
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

export function evalError(message: string): never {
  throw new EvalError(message);
}
