import type { Request, Response } from 'express';
import type { GatewayTelemetry } from '../../telemetry/gateway-telemetry.js';

/** `GET /metrics`: the Prometheus exposition of this gateway (and of the process). */
export function metricsRoute(telemetry: GatewayTelemetry) {
  return async (_request: Request, response: Response): Promise<void> => {
    const body = await telemetry.metricsText();
    response.writeHead(200, { 'content-type': telemetry.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    response.end(body);
  };
}
