"use client";

import { useCallback, useState } from "react";

/** What a failed call says to the user: the server's message (ApiError carries it) or the thrown value. */
export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export interface ActionOptions {
  /**
   * Stay busy after a success. For actions that end by leaving the page or
   * closing the dialog: re-enabling the button while the router navigates would
   * invite a second submit (a second stream, team or copy).
   */
  staysBusyOnSuccess?: boolean;
  /** Turns a failure into the message shown; `errorMessage` unless the form adds more (e.g. field paths). */
  describe?: (e: unknown) => string;
}

/**
 * One API call behind a button: `run` marks the form busy and clears the last
 * error, awaits the action, and on failure shows its message and frees the
 * button again. `setError` is for messages from outside the action (a failed
 * load before the dialog's own call).
 */
export function useAction({ staysBusyOnSuccess = false, describe = errorMessage }: ActionOptions = {}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = useCallback(
    async (action: () => Promise<void>) => {
      setBusy(true);
      setError(null);
      try {
        await action();
        if (!staysBusyOnSuccess) setBusy(false);
      } catch (e) {
        setError(describe(e));
        setBusy(false);
      }
    },
    [staysBusyOnSuccess, describe],
  );

  return { busy, error, setError, run };
}
