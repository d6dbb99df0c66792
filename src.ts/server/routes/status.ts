import type { Request, Response } from 'express';
import type { Gateway } from '../../gateway/gateway.js';
import type { GatewayTelemetry } from '../../telemetry/gateway-telemetry.js';
import { STATUS_PAGE_HEADERS, STATUS_PAGE_HTML } from '../status/status-page.js';
import { buildStatusView } from '../status/status-view.js';
import { writeJson } from '../write-error.js';

const PAGE = Buffer.from(STATUS_PAGE_HTML);

/** `GET /status`: the self-refreshing status page (it holds no data; it reads `/admin/status`). */
export function statusPageRoute() {
  return async (_request: Request, response: Response): Promise<void> => {
    response.writeHead(200, { ...STATUS_PAGE_HEADERS, 'content-length': PAGE.length });
    response.end(PAGE);
  };
}

/** `GET /admin/status`: what the status page shows (behind the admin guard). */
export function statusViewRoute(gateway: Gateway, telemetry: GatewayTelemetry) {
  return async (_request: Request, response: Response): Promise<void> => {
    writeJson(response, buildStatusView(gateway, telemetry.spendByProvider()), 200, { 'cache-control': 'no-store' });
  };
}
