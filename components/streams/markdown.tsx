import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";

// Descriptions are written by other teams: raw HTML is dropped (not rendered,
// not shown as text), link targets go through react-markdown's URL filter
// (no javascript: or data: links), and links carry rel=nofollow so catalog
// pages do not lend their reputation to whatever a description links to.
const components: Components = {
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer nofollow" className="text-brand-700 underline hover:text-brand-800" />,
  h1: ({ node: _node, ...props }) => <h3 {...props} className="mt-3 text-base font-semibold" />,
  h2: ({ node: _node, ...props }) => <h4 {...props} className="mt-3 text-sm font-semibold" />,
  h3: ({ node: _node, ...props }) => <h5 {...props} className="mt-2 text-sm font-semibold" />,
  p: ({ node: _node, ...props }) => <p {...props} className="my-2" />,
  ul: ({ node: _node, ...props }) => <ul {...props} className="my-2 list-disc pl-5" />,
  ol: ({ node: _node, ...props }) => <ol {...props} className="my-2 list-decimal pl-5" />,
  code: ({ node: _node, ...props }) => <code {...props} className="rounded bg-slate-100 px-1 font-mono text-[0.85em]" />,
  pre: ({ node: _node, ...props }) => <pre {...props} className="my-2 overflow-x-auto rounded bg-slate-50 p-2 text-xs" />,
  table: ({ node: _node, ...props }) => <table {...props} className="my-2 border-collapse text-xs" />,
  th: ({ node: _node, ...props }) => <th {...props} className="border border-slate-200 bg-slate-50 px-2 py-1 text-left" />,
  td: ({ node: _node, ...props }) => <td {...props} className="border border-slate-200 px-2 py-1" />,
  blockquote: ({ node: _node, ...props }) => <blockquote {...props} className="my-2 border-l-2 border-slate-300 pl-3 text-slate-600" />,
};

/** A stream description rendered as GitHub-flavoured markdown (tables, task lists, autolinks), safely. */
export function Markdown({ children }: { children: string }) {
  return (
    <div className="max-w-3xl text-sm text-slate-700" data-testid="markdown">
      <ReactMarkdown remarkPlugins={[remarkGfm]} skipHtml components={components}>
        {children}
      </ReactMarkdown>
    </div>
  );
}
