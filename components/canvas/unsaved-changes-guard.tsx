"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { buttonStyles, Dialog } from "@/components/ui/dialog";
import { NAVIGATION_REQUEST_EVENT } from "@/components/ui/navigation-guard";

/**
 * Asks before unsaved canvas edits are thrown away: on reload/close
 * (beforeunload) and on in-app navigation through links (sidebar, breadcrumbs),
 * which the App Router performs client-side without any unload event, and on
 * router.push navigations that ask first (requestNavigation, e.g. the team
 * switcher). The
 * click is caught in the capture phase at the window, before Next's <Link>
 * sees it, and replayed with router.push once the user agrees.
 */
export function UnsavedChangesGuard({ dirty }: { dirty: boolean }) {
  const router = useRouter();
  const [pending, setPending] = useState<string | null>(null);
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;

  useEffect(() => {
    const onUnload = (e: BeforeUnloadEvent) => {
      if (dirtyRef.current) e.preventDefault();
    };
    const onClick = (e: MouseEvent) => {
      if (!dirtyRef.current || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = (e.target as Element | null)?.closest?.("a[href]") as HTMLAnchorElement | null;
      if (!a || (a.target && a.target !== "_self") || a.hasAttribute("download")) return;
      const url = new URL(a.href, window.location.href);
      if (url.origin !== window.location.origin) return; // leaving the app: beforeunload asks
      if (url.pathname === window.location.pathname && url.search === window.location.search) return; // same page (e.g. #anchor)
      e.preventDefault();
      e.stopPropagation();
      setPending(url.pathname + url.search + url.hash);
    };
    const onRequest = (e: Event) => {
      if (!dirtyRef.current) return;
      e.preventDefault();
      setPending((e as CustomEvent<{ href: string }>).detail.href);
    };
    window.addEventListener("beforeunload", onUnload);
    window.addEventListener("click", onClick, true);
    window.addEventListener(NAVIGATION_REQUEST_EVENT, onRequest);
    return () => {
      window.removeEventListener("beforeunload", onUnload);
      window.removeEventListener("click", onClick, true);
      window.removeEventListener(NAVIGATION_REQUEST_EVENT, onRequest);
    };
  }, []);

  if (!pending) return null;
  return (
    <Dialog
      title="Leave without saving?"
      onClose={() => setPending(null)}
      footer={<>
        <button onClick={() => setPending(null)} className={buttonStyles.secondary} data-autofocus>Stay on the canvas</button>
        <button
          onClick={() => {
            const to = pending;
            setPending(null);
            // Not dirty any more for this navigation: the user chose to discard.
            dirtyRef.current = false;
            router.push(to);
          }}
          className={buttonStyles.danger}
        >
          Discard changes and leave
        </button>
      </>}
    >
      <p>The pipeline has changes that are not saved as a version. Save a version to keep them, or leave and lose them.</p>
    </Dialog>
  );
}
