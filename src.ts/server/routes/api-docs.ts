import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import { packageRequire } from '../../internal/package-require.js';

/** Swagger UI's start-up, served as a file so the page's CSP can forbid inline script. */
const INITIALISER = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const PAGE = Buffer.from(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zg-gateway API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`);

/** Nothing but this origin: the docs work offline and load nothing from outside. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The assets `/docs/{asset}` serves: swagger-ui-dist's files by name, and the initialiser. */
const ASSETS: Record<string, { type: string; file?: string; text?: string }> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', file: 'swagger-ui-bundle.js' },
  'init.js': { type: 'text/javascript; charset=utf-8', text: INITIALISER },
};

const loaded = new Map<string, Buffer>();

/** An asset's bytes, read once from the swagger-ui-dist package on first use. */
function assetBytes(name: string): Buffer | undefined {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) return undefined;
  let bytes = loaded.get(name);
  if (!bytes) {
    bytes = asset.text !== undefined ? Buffer.from(asset.text) : readFileSync(join(dirname(packageRequire.resolve('swagger-ui-dist/package.json')), asset.file ?? name));
    loaded.set(name, bytes);
  }
  return bytes;
}

/** `GET /openapi.json`: the OpenAPI 3.1 document (built once per server). */
export function openApiRoute(document: object) {
  const body = Buffer.from(JSON.stringify(document));
  return async (_request: Request, response: Response): Promise<void> => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-cache' });
    response.end(body);
  };
}

/** `GET /docs`: Swagger UI for `/openapi.json`, from the swagger-ui-dist package (offline). */
export function apiDocsPageRoute() {
  return async (_request: Request, response: Response): Promise<void> => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': PAGE.length, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
    response.end(PAGE);
  };
}

/** `GET /docs/{asset}`: Swagger UI's script and style (404 for any other name). */
export function apiDocsAssetRoute() {
  return async (request: Request, response: Response): Promise<void> => {
    const name = String(request.params.asset ?? '');
    const bytes = assetBytes(name);
    if (!bytes) throw new GatewayError('not_found', `No route GET ${request.path}`);
    response.writeHead(200, { 'content-type': (ASSETS[name] as { type: string }).type, 'content-length': bytes.length, 'cache-control': 'public, max-age=3600', ...SECURITY_HEADERS });
    response.end(bytes);
  };
}
