import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { Gateway } from '../../gateway/gateway.js';
import type { StatusHistory } from '../../observability/status-history.js';
import type { GatewayTelemetry } from '../../telemetry/gateway-telemetry.js';
import { STATUS_ASSETS, statusPage } from '../status/status-page.js';
import type { StatusSources } from '../status/status-sources.js';
import { buildStatusView } from '../status/status-view.js';
import { writeJson } from '../write-error.js';
import { packageRequire } from '../../internal/package-require.js';

/** `GET /status`: the self-refreshing status page (it holds no data; it reads `/admin/status`). */
export function statusPageRoute() {
  return async (_request: Request, response: Response): Promise<void> => {
    const page = statusPage();
    response.writeHead(200, { ...page.headers, 'content-length': page.bytes.length });
    response.end(page.bytes);
  };
}

const loaded = new Map<string, Buffer>();

/** `GET /status/assets/{asset}`: uPlot's script and style, from the installed package (offline), cached for a year (the name carries uPlot's version). */
export function statusAssetRoute() {
  return async (request: Request, response: Response): Promise<void> => {
    const name = String(request.params.asset ?? '');
    const asset = Object.hasOwn(STATUS_ASSETS(), name) ? STATUS_ASSETS()[name] : undefined;
    if (!asset) throw new GatewayError('not_found', `No route GET ${request.path}`);
    let bytes = loaded.get(name);
    if (!bytes) {
      bytes = readFileSync(join(dirname(packageRequire.resolve('uplot/package.json')), asset.file));
      loaded.set(name, bytes);
    }
    response.writeHead(200, {
      'content-type': asset.type,
      'content-length': bytes.length,
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'same-origin',
    });
    response.end(bytes);
  };
}

/** `GET /admin/status[?series=<provider id>]`: what the status page shows (behind the admin guard). */
export function statusViewRoute(gateway: Gateway, telemetry: GatewayTelemetry, history: StatusHistory | undefined, sources: StatusSources) {
  return async (request: Request, response: Response): Promise<void> => {
    const scope = typeof request.query.series === 'string' ? request.query.series : undefined;
    const [billing, keys] = await Promise.all([sources.billing(), sources.keys()]);
    const view = buildStatusView(gateway, { spendByProvider: telemetry.spendByProvider(), history, scope, billing, keys });
    writeJson(response, view, 200, { 'cache-control': 'no-store' });
  };
}
