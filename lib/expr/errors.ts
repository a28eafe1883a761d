/**
 * A per-record evaluation failure (division by zero, null where a value is
 * needed, missing map key...). Operators turn it into an error record; it never
 * escapes a batch.
 */
export class EvalError extends Error {
  override readonly name = "EvalError";
}

export function evalError(message: string): never {
  throw new EvalError(message);
}
