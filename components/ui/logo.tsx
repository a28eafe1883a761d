/** The Sluice mark: water passing a gate. Inline SVG, no asset to fetch. */
export function Logo({ className = "h-7 w-7" }: { className?: string }) {
  return (
    <svg viewBox="0 0 32 32" className={className} aria-hidden="true">
      <rect x="2" y="2" width="28" height="28" rx="7" className="fill-brand-600" />
      <path d="M7 12c3 0 3-2 6-2s3 2 6 2 3-2 6-2" fill="none" stroke="white" strokeWidth="2.2" strokeLinecap="round" />
      <path d="M7 18c3 0 3-2 6-2s3 2 6 2 3-2 6-2" fill="none" stroke="white" strokeWidth="2.2" strokeLinecap="round" opacity=".75" />
      <path d="M7 24c3 0 3-2 6-2s3 2 6 2 3-2 6-2" fill="none" stroke="white" strokeWidth="2.2" strokeLinecap="round" opacity=".5" />
    </svg>
  );
}
