import { createHash } from 'node:crypto';
import { packageRequire } from '../../internal/package-require.js';
import { STATUS_PAGE_BODY, STATUS_PAGE_STYLE } from './status-page-layout.js';
import { statusPageScript } from './status-page-script.js';

/** uPlot's version (its assets' names carry it, so they can be cached for good). */
function uplotVersion(): string {
  return (packageRequire('uplot/package.json') as { version: string }).version;
}

let assets: Record<string, { file: string; type: string }> | undefined;
/** The files `/status/assets/{asset}` serves: uPlot's script and style, by versioned name. */
export function STATUS_ASSETS(): Readonly<Record<string, { file: string; type: string }>> {
  assets ??= {
    [`uplot-${uplotVersion()}.min.js`]: { file: 'dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
    [`uplot-${uplotVersion()}.min.css`]: { file: 'dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
  };
  return assets;
}

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

let page: { bytes: Buffer; headers: Readonly<Record<string, string>> } | undefined;

/**
 * The status page: its own inline style and script (allowed by their hashes), uPlot's script and
 * style from this origin (`/status/assets/…`, from the installed package: nothing from outside).
 * Its Content-Security-Policy allows exactly those and requests to its own origin; no caching,
 * no referrer. Built once.
 */
export function statusPage(): { bytes: Buffer; headers: Readonly<Record<string, string>> } {
  if (page) return page;
  const version = uplotVersion();
  const script = statusPageScript();
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zg-gateway status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="status/assets/uplot-${version}.min.css">
<style>${STATUS_PAGE_STYLE}</style>
</head>
<body>${STATUS_PAGE_BODY}<script src="status/assets/uplot-${version}.min.js"></script>
<script>${script}</script>
</body>
</html>
`;
  page = {
    bytes: Buffer.from(html),
    headers: {
      'content-type': 'text/html; charset=utf-8',
      // 'self' for uPlot's two files; the inline script and style by hash only.
      'content-security-policy': `default-src 'none'; script-src 'self' ${hash(script)}; style-src 'self' ${hash(STATUS_PAGE_STYLE)}; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    },
  };
  return page;
}
