-- DropIndex
DROP INDEX "deployments_pipelineId_idx";

-- AlterTable
ALTER TABLE "deployments" ADD COLUMN     "generation" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "previousParallelism" INTEGER;

-- CreateIndex
CREATE UNIQUE INDEX "deployments_pipelineId_key" ON "deployments"("pipelineId");

