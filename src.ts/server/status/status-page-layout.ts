/** The status page's style and markup (no data: the script fills every element with `textContent`). */

export const STATUS_PAGE_STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --text: #1d2330; --muted: #667085; --line: #e4e7ec;
  --good: #067647; --good-bg: #dcfae6; --warn: #93370d; --warn-bg: #fef0c7; --bad: #b42318; --bad-bg: #fee4e2; --bar: #2e90fa; --p95: #f79009; }
@media (prefers-color-scheme: dark) { :root { --bg: #0c111d; --card: #161b26; --text: #f5f5f6; --muted: #94969c; --line: #333741;
  --good-bg: #053321; --good: #75e0a7; --warn-bg: #4e1d09; --warn: #fec84b; --bad-bg: #55160c; --bad: #fda29b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 14px 20px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 15px; margin: 24px 0 10px; }
h3 { font-size: 12px; margin: 0 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.meta { color: var(--muted); font-size: 12px; margin-left: auto; }
main { padding: 16px 20px; max-width: 1600px; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.figure { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; display: flex; flex-direction: column; min-width: 0; }
.figure .label { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.figure .value { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.figure .note { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
.charts-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 16px; }
.charts-head label { color: var(--muted); font-size: 13px; }
select { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--text); max-width: 100%; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 460px), 1fr)); gap: 10px; }
.chart { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 4px; min-width: 0; overflow: hidden; }
.uplot { font-family: inherit; } .u-legend { font-size: 12px; color: var(--muted); }
table { width: 100%; border-collapse: collapse; background: var(--card); }
th, td { padding: 8px 10px; text-align: left; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); background: var(--bg); white-space: nowrap; }
td { font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
.name { font-weight: 600; overflow-wrap: anywhere; }
.sub { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.address { font-size: 11px; word-break: break-all; }
td[data-field="id"] { min-width: 170px; max-width: 240px; }
td[data-field="health"], td[data-field="breaker"] { min-width: 110px; }
.reason { font-size: 12px; color: var(--bad); margin-top: 3px; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.good { color: var(--good); background: var(--good-bg); } .warn { color: var(--warn); background: var(--warn-bg); } .bad { color: var(--bad); background: var(--bad-bg); }
.na { color: var(--muted); }
.share { display: flex; align-items: center; gap: 8px; }
.track { width: 60px; height: 8px; border-radius: 4px; background: var(--line); overflow: hidden; }
.bar { height: 100%; background: var(--bar); min-width: 2px; }
td[data-field="lastError"], td[data-field="message"] { color: var(--muted); font-size: 12px; min-width: 200px; white-space: pre-wrap; overflow-wrap: anywhere; }
td.num:not([data-field="message"]):not([data-field="lastError"]) { white-space: nowrap; }
#message { margin: 0 0 16px; padding: 10px 14px; border-radius: 6px; background: var(--warn-bg); color: var(--warn); }
#auth { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 16px; }
#auth input { padding: 6px 10px; min-width: min(280px, 100%); border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--text); }
#auth button { padding: 6px 14px; border: 0; border-radius: 6px; background: var(--bar); color: #fff; font-weight: 600; cursor: pointer; }
[hidden] { display: none !important; }
footer { padding: 0 20px 20px; color: var(--muted); font-size: 12px; }
@media (max-width: 720px) {
  header, main { padding-left: 12px; padding-right: 12px; }
  .meta { margin-left: 0; width: 100%; }
  .table-wrap { border: 0; overflow: visible; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
  table.cards { background: transparent; }
  table.cards thead { display: none; }
  table.cards tr { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 10px; padding: 4px 0; }
  table.cards td { border: 0; padding: 4px 12px; display: flex; gap: 10px; }
  table.cards td::before { content: attr(data-label); flex: 0 0 96px; color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .04em; padding-top: 2px; }
  table.cards td > *:not(.badge) { min-width: 0; flex: 1 1 0; overflow-wrap: anywhere; word-break: break-word; }
  table.cards td[data-field="message"] > span, table.cards td[data-field="lastError"] div { word-break: break-all; }
  td[data-field="id"] { max-width: none; }
  td[data-field="lastError"], td[data-field="message"] { min-width: 0; }
}
`;

const figure = (id: string, label: string): string => `<div class="figure"><span class="label">${label}</span><span class="value" id="${id}">-</span><span class="note" id="${id}-note"></span></div>`;

export const STATUS_PAGE_BODY = `
<header>
  <h1>zg-gateway</h1>
  <span id="overall" class="badge warn" role="status">loading</span>
  <span class="meta">version <span id="version">-</span> · up <span id="uptime">-</span> · updated <span id="updated">-</span></span>
</header>
<main>
  <p id="message" hidden></p>
  <form id="auth" hidden autocomplete="off">
    <input id="token" type="password" placeholder="Admin token" aria-label="Admin token">
    <button type="submit">Show status</button>
  </form>
  <section class="figures" aria-label="Figures">
    ${figure('strategy', 'Strategy')}${figure('in-flight', 'In flight')}${figure('queue', 'Queue')}${figure('served', 'Served')}${figure('spend', 'Spend')}${figure('billing', 'Billing')}${figure('ledger', 'Ledger')}
  </section>
  <section aria-labelledby="charts-title">
    <div class="charts-head"><h2 id="charts-title">Last hour</h2>
      <label for="scope">Charts for</label> <select id="scope"><option value="overall">all providers</option></select></div>
    <div class="charts">
      <div class="chart" id="chart-rate" data-points="0"><h3>Requests / s</h3></div>
      <div class="chart" id="chart-errors" data-points="0"><h3>Error rate (%)</h3></div>
      <div class="chart" id="chart-ttft" data-points="0"><h3>Time to first token (ms)</h3></div>
      <div class="chart" id="chart-latency" data-points="0"><h3>Latency (ms)</h3></div>
    </div>
  </section>
  <h2>Providers</h2>
  <div class="table-wrap"><table class="cards">
    <thead><tr><th>Provider</th><th>State</th><th>Breaker</th><th>Funding</th><th>Trust</th><th>In flight</th><th>Served</th><th>Failures</th><th>TTFT</th><th>Tokens/s</th><th>p50 / p95</th><th>Share</th><th>Spend</th><th>Last error</th></tr></thead>
    <tbody id="providers"></tbody>
  </table></div>
  <p id="empty" hidden>No provider in the fleet.</p>
  <section id="failed-section" hidden><h2>Not initialised</h2><ul id="failed"></ul></section>
  <section id="failures-section"><h2>Recent failures</h2>
    <div class="table-wrap"><table class="cards"><thead><tr><th>Time</th><th>What</th><th>Provider</th><th>Code</th><th>Message</th></tr></thead><tbody id="failures"></tbody></table></div>
    <p id="no-failures" class="sub">None since start.</p>
  </section>
  <section id="funds-section" hidden><h2>Funds</h2>
    <div class="table-wrap"><table class="cards"><thead><tr><th>Account</th><th>Balance</th><th>Pending refund</th><th>State</th><th>Read</th></tr></thead><tbody id="funds"></tbody></table></div>
  </section>
  <section id="billing-section" hidden><h2>Billing</h2>
    <div class="table-wrap"><table class="cards"><thead><tr><th>Provider</th><th>Status</th><th>Not settled yet</th></tr></thead><tbody id="billing-providers"></tbody></table></div>
  </section>
  <section id="keys-section" hidden><h2>Usage per key</h2>
    <div class="table-wrap"><table class="cards"><thead><tr><th>Key</th><th>Requests</th><th>Tokens in / out</th><th>Spend</th><th>In flight</th></tr></thead><tbody id="keys"></tbody></table></div>
    <p class="sub" id="keys-note"></p>
  </section>
</main>
<footer>Refreshes by itself. Data: GET /admin/status. Metrics: /metrics. API: /docs.</footer>
`;
