import { createHash } from 'node:crypto';
import { STATUS_PAGE_SCRIPT } from './status-page-script.js';

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --text: #1d2330; --muted: #667085; --line: #e4e7ec;
  --good: #067647; --good-bg: #dcfae6; --warn: #93370d; --warn-bg: #fef0c7; --bad: #b42318; --bad-bg: #fee4e2; --bar: #2e90fa; }
@media (prefers-color-scheme: dark) { :root { --bg: #0c111d; --card: #161b26; --text: #f5f5f6; --muted: #94969c; --line: #333741;
  --good-bg: #053321; --good: #75e0a7; --warn-bg: #4e1d09; --warn: #fec84b; --bad-bg: #55160c; --bad: #fda29b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 28px; padding: 18px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0 12px 0 0; }
.figure { display: flex; flex-direction: column; }
.figure .label { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.figure .value { font-size: 16px; font-weight: 600; font-variant-numeric: tabular-nums; }
main { padding: 20px 24px; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { padding: 9px 12px; text-align: left; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); background: var(--bg); }
td { font-variant-numeric: tabular-nums; }
.name { font-weight: 600; word-break: break-all; }
.sub { color: var(--muted); font-size: 12px; white-space: nowrap; }
.table-wrap { overflow-x: auto; border-radius: 8px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.good { color: var(--good); background: var(--good-bg); } .warn { color: var(--warn); background: var(--warn-bg); } .bad { color: var(--bad); background: var(--bad-bg); }
.share { display: flex; align-items: center; gap: 8px; }
.track { width: 72px; height: 8px; border-radius: 4px; background: var(--line); overflow: hidden; }
.bar { height: 100%; background: var(--bar); min-width: 2px; }
td:not([data-field="id"]):not([data-field="lastError"]) { white-space: nowrap; }
td[data-field="lastError"] { color: var(--muted); font-size: 12px; max-width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#message { margin: 0 0 16px; padding: 10px 14px; border-radius: 6px; background: var(--warn-bg); color: var(--warn); }
#auth { display: flex; gap: 8px; margin: 0 0 16px; }
#auth input { padding: 6px 10px; min-width: 280px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--text); }
#auth button { padding: 6px 14px; border: 0; border-radius: 6px; background: var(--bar); color: #fff; font-weight: 600; cursor: pointer; }
[hidden] { display: none !important; }
footer { padding: 0 24px 20px; color: var(--muted); font-size: 12px; }
`;

const BODY = `
<header>
  <h1>zg-gateway</h1>
  <span id="overall" class="badge warn">loading</span>
  <div class="figure"><span class="label">Strategy</span><span class="value" id="strategy">-</span></div>
  <div class="figure"><span class="label">In flight</span><span class="value" id="in-flight">-</span></div>
  <div class="figure"><span class="label">Served</span><span class="value" id="served">-</span></div>
  <div class="figure"><span class="label">Spend</span><span class="value" id="spend">-</span></div>
  <div class="figure"><span class="label">Updated</span><span class="value" id="updated">-</span></div>
</header>
<main>
  <p id="message" hidden></p>
  <form id="auth" hidden autocomplete="off">
    <input id="token" type="password" placeholder="Admin token" aria-label="Admin token">
    <button type="submit">Show status</button>
  </form>
  <div class="table-wrap"><table>
    <thead><tr><th>Provider</th><th>Health</th><th>Breaker</th><th>Funding</th><th>Trust</th><th>In flight</th><th>Served</th><th>Failures</th><th>p50 / p95</th><th>Traffic share</th><th>Spend</th><th>Last error</th></tr></thead>
    <tbody id="providers"></tbody>
  </table></div>
  <p id="empty" hidden>No provider in the fleet.</p>
  <section id="failed-section" hidden><h2>Not initialised</h2><ul id="failed"></ul></section>
</main>
<footer>Refreshes by itself. Data: GET /admin/status. Metrics: /metrics. API: /docs.</footer>
`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The status page: one self-contained document (inline CSS and script, no outside asset). */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zg-gateway status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${STATUS_PAGE_SCRIPT}</script>
</body>
</html>
`;

/**
 * Headers of the status page: a Content-Security-Policy that allows exactly its own inline style
 * and script (by hash) and requests to its own origin, nothing else; no caching, no referrer.
 */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; script-src ${hash(STATUS_PAGE_SCRIPT)}; style-src ${hash(STYLE)}; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};
