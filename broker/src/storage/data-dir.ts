import fs from "node:fs";
import path from "node:path";
import { flockSync } from "fs-ext";
import { StartupError } from "../startup-error";

/**
 * Everything the broker writes holds other teams' records, offsets and transaction state:
 * only the broker's own user may read it. Files are created 0600 and directories 0700
 * explicitly (not left to the process umask, which is usually 022).
 */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

export function mkdirPrivate(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
}

/**
 * Data dirs written by older versions (0644 files, 0755 dirs): tightened once at start,
 * before any client can connect. Only group/other bits are removed; symlinks are not
 * followed, so a link in the data dir cannot make the broker chmod a file elsewhere.
 */
export function restrictDataDir(root: string): number {
  let changed = 0;
  const fix = (p: string, mode: number, want: number) => {
    if ((mode & 0o077) !== 0) {
      fs.chmodSync(p, want);
      changed++;
    }
  };
  const walk = (dir: string) => {
    fix(dir, fs.lstatSync(dir).mode, DIR_MODE);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) fix(p, fs.lstatSync(p).mode, FILE_MODE);
    }
  };
  walk(root);
  return changed;
}

/** Raised when another live broker already owns the data directory. */
export class DataDirLockedError extends StartupError {
  constructor(dir: string, holder: string) {
    super(`data dir ${dir} is in use by another broker${holder ? ` (pid ${holder})` : ""}; stop it first or use another --data-dir`);
    this.name = "DataDirLockedError";
  }
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

/**
 * An exclusive flock(2) on `<dir>/broker.lock`, as Kafka locks its log dirs (`.lock`).
 * The kernel releases it when the holding process dies in any way (kill -9, OOM, a
 * container stop), so a stale lock cannot exist. The pid written into the file is only
 * for the error message: it is never used to decide anything. A pid check
 * (`kill(pid, 0)`) is wrong after a container restart, where another process can have
 * the old pid, and for a zombie, which still "exists".
 *
 * The file is never deleted: unlinking it on close would let a starting broker lock the
 * old inode while a third one creates and locks a new file.
 */
export function lockDataDir(dir: string): DataDirLock {
  const file = path.join(dir, "broker.lock");
  // O_RDWR|O_CREAT without O_TRUNC: a running owner's pid stays readable until we hold the lock.
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, FILE_MODE);
  try {
    flockSync(fd, "exnb");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EAGAIN" && code !== "EWOULDBLOCK") {
      fs.closeSync(fd);
      throw err;
    }
    const buf = Buffer.alloc(32);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    fs.closeSync(fd);
    throw new DataDirLockedError(dir, buf.toString("utf8", 0, n).trim());
  }
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, `${process.pid}\n`, 0);
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      // Closing the only descriptor releases the flock.
      fs.closeSync(fd);
    },
  };
}
