-- AlterTable
ALTER TABLE "api_tokens" ADD COLUMN     "revokedReason" TEXT;

