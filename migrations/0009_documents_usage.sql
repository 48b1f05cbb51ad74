ALTER TABLE "usage_daily" DROP CONSTRAINT "usage_daily_service_check";--> statement-breakpoint
ALTER TABLE "usage_records" DROP CONSTRAINT "usage_records_service_check";--> statement-breakpoint
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_service_check" CHECK ("usage_daily"."service" IN ('chat', 'research', 'extraction', 'code', 'openai', 'documents'));--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_service_check" CHECK ("usage_records"."service" IN ('chat', 'research', 'extraction', 'code', 'openai', 'documents'));