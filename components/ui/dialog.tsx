"use client";

import { useEffect, useId, useRef } from "react";

/**
 * A small in-page modal (role="dialog"): Escape or the backdrop cancels, the
 * first field takes focus. Used instead of window.prompt/confirm, which block
 * the page, cannot be styled and are skipped silently by some browsers.
 */
export function Dialog({ title, children, onClose, footer, wide = false }: { title: string; children: React.ReactNode; onClose: () => void; footer: React.ReactNode; wide?: boolean }) {
  const id = useId();
  const panel = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const first = panel.current?.querySelector<HTMLElement>("input, textarea, select, button[data-autofocus]");
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") close.current();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/30 p-4" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={panel} role="dialog" aria-modal="true" aria-labelledby={id} className={`w-full ${wide ? "max-w-4xl" : "max-w-md"} rounded-xl bg-white p-5 shadow-xl`}>
        <h2 id={id} className="text-base font-semibold text-slate-900">{title}</h2>
        <div className="mt-3 text-sm text-slate-700">{children}</div>
        <div className="mt-5 flex justify-end gap-2">{footer}</div>
      </div>
    </div>
  );
}

export const buttonStyles = {
  primary: "rounded-md bg-brand-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-brand-700 disabled:opacity-40",
  secondary: "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50 disabled:opacity-40",
  danger: "rounded-md bg-red-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-red-700 disabled:opacity-40",
} as const;
