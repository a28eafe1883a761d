import { PrismaPg } from "@prisma/adapter-pg";
import { defineConfig } from "prisma/config";

// Prisma's CLI normally downloads a native schema engine, which cannot work on
// machines that reach only the npm registry. Prisma 6.19 can run the
// WebAssembly engine through the pg driver adapter instead (see
// docs/migrations.md). Pass connection fields, not a connection string: the
// adapter builds shadow databases by overriding `database`.
function connectionFields(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.replace(/^\//, "") || "postgres",
  };
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set: start Sluice with `npm start` or point DATABASE_URL at a Postgres server.");
    // Idle pooled connections would keep the CLI alive for pg's 10 s idle timeout.
    return new PrismaPg({ ...connectionFields(url), allowExitOnIdle: true });
  },
});
