/**
 * A problem the operator fixes (an unreadable key file, a data dir owned by another broker):
 * main prints the message alone and exits 1, without a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}
