import type { NextConfig } from "next";

const securityHeaders = [
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // NEXT_DIST_DIR lets several checkouts' builds (and their e2e servers) live
  // side by side in one working tree without overwriting each other.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  // Types are checked for the whole repository (web, workers, broker, scripts)
  // by `tsc --noEmit` as its own CI step; the build does not check them again.
  typescript: { ignoreBuildErrors: true },
  // Node-only packages (native addons, sockets, worker threads) are required at
  // run time rather than bundled.
  serverExternalPackages: ["isolated-vm", "kafkajs", "@prisma/client", "@prisma/adapter-pg", "pg", "bullmq", "ioredis", "pino", "pino-pretty", "@clickhouse/client", "re2js"],
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
