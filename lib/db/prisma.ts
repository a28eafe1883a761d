import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { ConfigError } from "@/lib/env/parse";
import { serializeTransactionQueries } from "./serialize-transaction-queries";

// One client per process. Next's dev server re-evaluates modules on reload,
// so the instance lives on globalThis to avoid leaking connection pools.
const globalForPrisma = globalThis as unknown as { sluicePrisma?: PrismaClient };

function createClient(): PrismaClient {
  const connectionString = process.env.DATABASE_URL;
  if (!connectionString) throw new ConfigError("DATABASE_URL is not set: start Sluice with `npm start` or set it to your Postgres server.");
  return new PrismaClient({ adapter: serializeTransactionQueries(new PrismaPg({ connectionString, max: 10 })) });
}

export function prisma(): PrismaClient {
  globalForPrisma.sluicePrisma ??= createClient();
  return globalForPrisma.sluicePrisma;
}

export async function disconnectPrisma(): Promise<void> {
  await globalForPrisma.sluicePrisma?.$disconnect();
  globalForPrisma.sluicePrisma = undefined;
}
