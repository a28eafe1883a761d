// The layout itself is pure and lives in lib/pipeline (pipelines built from SQL are laid out the same way).
export { layoutPipeline as layoutGraph, type LayoutEdge, type LayoutNode } from "@/lib/pipeline/layout";
