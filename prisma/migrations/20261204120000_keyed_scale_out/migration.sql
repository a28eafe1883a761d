-- AlterTable
ALTER TABLE "deployments" ADD COLUMN     "maxParallelism" INTEGER,
ADD COLUMN     "previousStages" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "stages" TEXT[] DEFAULT ARRAY['main']::TEXT[];

-- AlterTable
ALTER TABLE "streams" ADD COLUMN     "internalPipelineId" TEXT;

-- CreateIndex
CREATE INDEX "streams_internalPipelineId_idx" ON "streams"("internalPipelineId");
