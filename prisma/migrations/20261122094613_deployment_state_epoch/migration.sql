-- AlterTable
ALTER TABLE "deployments" ADD COLUMN     "stateEpoch" INTEGER NOT NULL DEFAULT 0;

