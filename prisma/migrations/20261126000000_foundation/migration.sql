-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ShopStatus" AS ENUM ('active', 'uninstalled');

-- CreateEnum
CREATE TYPE "ChannelKind" AS ENUM ('shopify', 'amazon', 'ebay', 'walmart');

-- CreateEnum
CREATE TYPE "ConnectionRole" AS ENUM ('source', 'sales');

-- CreateEnum
CREATE TYPE "ConnectionStatus" AS ENUM ('active', 'paused', 'error', 'disconnected');

-- CreateEnum
CREATE TYPE "ComplianceTopic" AS ENUM ('customers_data_request', 'customers_redact', 'shop_redact');

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "isOnline" BOOLEAN NOT NULL DEFAULT false,
    "scope" TEXT,
    "expires" TIMESTAMP(3),
    "accessToken" TEXT NOT NULL,
    "userId" BIGINT,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "accountOwner" BOOLEAN NOT NULL DEFAULT false,
    "locale" TEXT,
    "collaborator" BOOLEAN DEFAULT false,
    "emailVerified" BOOLEAN DEFAULT false,
    "refreshToken" TEXT,
    "refreshTokenExpires" TIMESTAMP(3),

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shop" (
    "id" UUID NOT NULL,
    "domain" TEXT NOT NULL,
    "name" TEXT,
    "status" "ShopStatus" NOT NULL DEFAULT 'active',
    "sync_enabled" BOOLEAN NOT NULL DEFAULT true,
    "installed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uninstalled_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "shop_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connection" (
    "id" UUID NOT NULL,
    "shop_id" UUID NOT NULL,
    "kind" "ChannelKind" NOT NULL,
    "role" "ConnectionRole" NOT NULL,
    "name" TEXT NOT NULL,
    "account_ref" TEXT NOT NULL,
    "api_base_url" TEXT,
    "credentials" TEXT,
    "status" "ConnectionStatus" NOT NULL DEFAULT 'active',
    "status_reason" TEXT,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "connection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "compliance_request" (
    "id" UUID NOT NULL,
    "shop_id" UUID,
    "shop_domain" TEXT NOT NULL,
    "topic" "ComplianceTopic" NOT NULL,
    "webhook_id" TEXT NOT NULL,
    "subject" JSONB NOT NULL,
    "outcome" JSONB NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "compliance_request_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Session_shop_idx" ON "Session"("shop");

-- CreateIndex
CREATE UNIQUE INDEX "shop_domain_key" ON "shop"("domain");

-- CreateIndex
CREATE UNIQUE INDEX "connection_shop_id_kind_account_ref_key" ON "connection"("shop_id", "kind", "account_ref");

-- CreateIndex
CREATE UNIQUE INDEX "compliance_request_shop_domain_topic_webhook_id_key" ON "compliance_request"("shop_domain", "topic", "webhook_id");

-- AddForeignKey
ALTER TABLE "connection" ADD CONSTRAINT "connection_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "compliance_request" ADD CONSTRAINT "compliance_request_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE SET NULL ON UPDATE CASCADE;

