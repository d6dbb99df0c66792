import { z } from 'zod';

/**
 * The `tracing` option: OpenTelemetry traces exported over OTLP/HTTP (JSON). Absent (and no
 * `OTEL_EXPORTER_OTLP_ENDPOINT` in the environment): tracing is off and its packages are never loaded.
 */
export const tracingConfigSchema = z
  .object({
    /**
     * The collector's OTLP/HTTP base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` (e.g. `http://127.0.0.1:4318`):
     * spans are POSTed to `<endpoint>/v1/traces`. Env `OTEL_EXPORTER_OTLP_ENDPOINT` when the option is absent.
     */
    endpoint: z
      .string()
      .max(2048)
      .regex(/^https?:\/\/[^\s]+$/, 'must be an http or https URL'),
    /** The `service.name` resource attribute. Default `zg-gateway` (env `OTEL_SERVICE_NAME`). */
    serviceName: z.string().min(1).max(200).default('zg-gateway'),
    /** Share of new traces kept (a client's sampled `traceparent` is always followed). Default 1. */
    sampleRatio: z.number().min(0).max(1).default(1),
    /** Headers sent to the collector (e.g. an API key). Default none. */
    headers: z.record(z.string().min(1), z.string()).default({}),
    /** How long finished spans wait to be sent together, ms (the batch processor's delay). Default 5000. */
    batchDelayMs: z.number().int().min(1).max(60_000).default(5000),
  })
  .strict();

/** The `tracing` option, validated. */
export type TracingConfig = z.output<typeof tracingConfigSchema>;
