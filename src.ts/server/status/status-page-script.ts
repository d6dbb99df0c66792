import { STATUS_CHARTS_SCRIPT } from './status-charts-script.js';
import { formatDuration, formatMs, formatZeroG } from './status-format.js';

/**
 * The status page's script (inline in the page, allowed by its hash in the page's CSP). It polls
 * `/admin/status` and rebuilds the page with `textContent` only (provider names and errors are
 * never parsed as HTML). When that route answers 401 it asks for the admin token, keeps it in
 * `sessionStorage` (this tab only, gone when it closes) and sends it as a bearer token.
 * `?refresh=<ms>` sets the period (default 2000, at least 250). The unit formatters are the
 * tested functions of `status-format.ts`, embedded by their source.
 */
const MAIN = String.raw`
  var TOKEN_KEY = 'zg-gateway.adminToken';
  var params = new URLSearchParams(location.search);
  var period = Math.max(250, Number(params.get('refresh')) || 2000);
  var statusUrl = new URL('admin/status', location.href).href;
  var $ = function (id) { return document.getElementById(id); };
  var timer = null;
  var names = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function badge(text, tone) { return el('span', 'badge ' + tone, text); }
  function tone(state) {
    if (state === 'closed' || state === 'ok' || state === 'trusted' || state === 'active' || state === 'healthy') return 'good';
    if (state === 'half-open' || state === 'draining' || state === 'degraded' || state === 'pending' || state === 'unknown') return 'warn';
    return 'bad';
  }
  function stack() {
    var box = el('div');
    for (var index = 0; index < arguments.length; index++) if (arguments[index]) box.appendChild(arguments[index]);
    return box;
  }
  function cell(row, field, label, content, title) {
    var td = el('td');
    td.dataset.field = field;
    td.dataset.label = label;
    // Text in a span of its own: on narrow screens a cell is a flex row (label, value) and the value must wrap.
    if (typeof content === 'string' || typeof content === 'number') { td.appendChild(el('span', '', content)); td.className = 'num'; }
    else if (content) td.appendChild(content);
    if (title) td.title = title;
    row.appendChild(td);
    return td;
  }
  function zeroG(neuron) { return neuron === null || neuron === undefined ? '-' : formatZeroG(neuron); }
  function setFigure(id, value, note, title) {
    $(id).textContent = value;
    $(id + '-note').textContent = note || '';
    if (title) $(id).title = title;
  }
  function shareBar(share) {
    var wrap = el('div', 'share');
    var track = el('div', 'track');
    var bar = el('div', 'bar');
    bar.style.width = Math.round(share * 100) + '%';
    track.appendChild(bar);
    wrap.appendChild(track);
    wrap.appendChild(el('span', '', Math.round(share * 1000) / 10 + ' %'));
    return wrap;
  }
  function notApplicable() { var span = el('span', 'na', 'n/a'); span.title = 'Not a 0G provider: no funding or trust to show'; return span; }
  function time(iso) { return new Date(iso).toLocaleTimeString(); }
  function shortAddress(text) { return /^0x[0-9a-fA-F]{40}$/.test(text) ? text.slice(0, 6) + '…' + text.slice(-4) : text; }
  function displayName(id) { return names[id] || names[String(id).toLowerCase()] || shortAddress(String(id)); }

  function renderProvider(provider) {
    var row = el('tr');
    row.dataset.provider = provider.id;
    // Its name first; a 0G provider known only by its address shows it short, then whole.
    var who = stack(
      el('div', 'name', provider.name || shortAddress(provider.address)),
      el('div', 'sub address', provider.address),
      el('div', 'sub', provider.kind + ' · ' + (provider.models.join(', ') || 'any model'))
    );
    cell(row, 'id', 'Provider', who);
    cell(row, 'health', 'State', stack(
      badge(provider.inRotation ? 'in rotation' : 'out', provider.inRotation ? 'good' : 'bad'),
      provider.outOfRotationReason ? el('div', 'reason', provider.outOfRotationReason) : null
    ));
    cell(row, 'breaker', 'Breaker', stack(
      badge(provider.breaker, tone(provider.breaker)),
      provider.breakerRetryInMs !== null ? el('div', 'sub countdown', 'retry in ' + formatDuration(provider.breakerRetryInMs)) : null
    ));
    cell(row, 'funding', 'Funding', provider.fundingApplies ? badge(provider.funding, tone(provider.funding)) : notApplicable());
    cell(row, 'trust', 'Trust', provider.fundingApplies ? badge(provider.trust, tone(provider.trust)) : notApplicable());
    cell(row, 'inFlight', 'In flight', provider.inFlight);
    cell(row, 'served', 'Served', provider.served);
    cell(row, 'failures', 'Failures', provider.failures, 'error rate (recent, weighted) ' + provider.errorRate);
    cell(row, 'ttft', 'TTFT', formatMs(provider.ewmaTtfbMs));
    cell(row, 'tokensPerSecond', 'Tokens/s', provider.tokensPerSecond === null ? '-' : String(Math.round(provider.tokensPerSecond * 10) / 10));
    cell(row, 'latency', 'p50 / p95', formatMs(provider.latencyMs.p50) + ' / ' + formatMs(provider.latencyMs.p95));
    cell(row, 'share', 'Share', shareBar(provider.share));
    cell(row, 'spend', 'Spend', zeroG(provider.spendNeuron), provider.spendNeuron + ' neuron');
    var error = provider.lastError;
    cell(row, 'lastError', 'Last error', error ? stack(el('div', '', error.code + ': ' + error.message), el('div', 'sub', time(error.at))) : '-');
    return row;
  }

  function fill(id, items, build) {
    var rows = document.createDocumentFragment();
    items.forEach(function (item) { rows.appendChild(build(item)); });
    $(id).replaceChildren(rows);
  }

  function renderScopes(series) {
    var select = $('scope');
    var wanted = ['overall'].concat(series.scopes);
    var current = Array.prototype.map.call(select.options, function (option) { return option.value; });
    if (current.join('\n') === wanted.join('\n')) return;
    var chosen = select.value;
    var options = document.createDocumentFragment();
    wanted.forEach(function (scope) {
      var option = el('option', '', scope === 'overall' ? 'all providers' : displayName(scope));
      option.value = scope;
      options.appendChild(option);
    });
    select.replaceChildren(options);
    select.value = wanted.indexOf(chosen) >= 0 ? chosen : 'overall';
  }

  function render(view) {
    $('auth').hidden = true;
    $('message').hidden = true;
    names = {};
    view.providers.forEach(function (provider) { names[provider.id] = provider.name || shortAddress(provider.address); names[String(provider.id).toLowerCase()] = names[provider.id]; });
    var overall = $('overall');
    overall.textContent = view.status;
    overall.className = 'badge ' + tone(view.status);
    $('version').textContent = view.version;
    $('uptime').textContent = formatDuration(view.uptimeSeconds * 1000);
    $('updated').textContent = new Date(view.generatedAt).toLocaleTimeString();
    setFigure('strategy', view.strategy);
    setFigure('in-flight', String(view.inFlight));
    setFigure('queue', view.queue.depth + ' / ' + view.queue.maxSize, view.queue.depth > 0 ? 'oldest waits ' + formatMs(view.queue.oldestWaitMs) : (view.queue.rejected + view.queue.timeouts) + ' refused or timed out');
    setFigure('served', String(view.served));
    setFigure('spend', zeroG(view.spendNeuron), 'since start', view.spendNeuron + ' neuron');
    if (view.billing) setFigure('billing', view.billing.status, view.billing.error ? view.billing.error : zeroG(view.billing.pending) + ' not settled yet');
    else setFigure('billing', 'n/a', 'no 0G wallet');
    if (view.funds && view.funds.ledger) setFigure('ledger', zeroG(view.funds.ledger.available), view.funds.belowFloor ? 'below the floor of ' + zeroG(view.funds.ledgerFloor) : 'of ' + zeroG(view.funds.ledger.total) + ' in all');
    else setFigure('ledger', 'n/a', view.funds ? 'not read yet' : 'no 0G wallet');

    fill('providers', view.providers, renderProvider);
    $('empty').hidden = view.providers.length > 0;
    fill('failed', view.failedProviders, function (entry) { return el('li', '', entry.address + ' — ' + entry.code + ': ' + entry.message); });
    $('failed-section').hidden = view.failedProviders.length === 0;

    fill('failures', view.failures, function (failure) {
      var row = el('tr');
      cell(row, 'at', 'Time', time(failure.at), failure.at);
      cell(row, 'kind', 'What', failure.kind === 'request' ? 'request ' + failure.status : 'attempt');
      cell(row, 'provider', 'Provider', failure.provider ? displayName(failure.provider) : '-');
      cell(row, 'code', 'Code', failure.code);
      cell(row, 'message', 'Message', failure.message || '-');
      return row;
    });
    $('no-failures').hidden = view.failures.length > 0;

    $('funds-section').hidden = !view.funds;
    if (view.funds) {
      var accounts = [];
      if (view.funds.ledger) accounts.push({ name: 'Ledger', balance: view.funds.ledger.available, refund: null, state: view.funds.belowFloor ? 'below floor' : 'ok', readAt: view.funds.ledger.readAt });
      view.funds.subAccounts.forEach(function (account) {
        accounts.push({ name: displayName(account.provider), balance: account.balance, refund: account.pendingRefund, state: account.needsFunds ? 'needs funds' : 'ok', readAt: account.readAt });
      });
      fill('funds', accounts, function (account) {
        var row = el('tr');
        cell(row, 'account', 'Account', el('span', 'name', account.name));
        cell(row, 'balance', 'Balance', zeroG(account.balance), account.balance + ' neuron');
        cell(row, 'pendingRefund', 'Pending refund', account.refund === null ? '-' : zeroG(account.refund));
        cell(row, 'state', 'State', badge(account.state, account.state === 'ok' ? 'good' : 'bad'));
        cell(row, 'readAt', 'Read', time(account.readAt));
        return row;
      });
    }
    $('billing-section').hidden = !view.billing || view.billing.providers.length === 0;
    if (view.billing) fill('billing-providers', view.billing.providers, function (entry) {
      var row = el('tr');
      cell(row, 'provider', 'Provider', el('span', 'name', displayName(entry.provider)));
      cell(row, 'status', 'Status', badge(entry.status, tone(entry.status)));
      cell(row, 'pending', 'Not settled yet', zeroG(entry.pending), entry.pending + ' neuron');
      return row;
    });
    $('keys-section').hidden = !view.keys;
    if (view.keys) {
      fill('keys', view.keys.keys, function (key) {
        var row = el('tr');
        row.dataset.key = key.id;
        cell(row, 'id', 'Key', el('span', 'name', key.id + (key.disabled ? ' (off)' : '')));
        cell(row, 'requests', 'Requests', key.requests);
        cell(row, 'tokens', 'Tokens in / out', key.promptTokens + ' / ' + key.completionTokens);
        cell(row, 'spend', 'Spend', zeroG(key.spendNeuron), key.spendNeuron + ' neuron');
        cell(row, 'inFlight', 'In flight', key.inFlight === null ? '-' : key.inFlight);
        return row;
      });
      $('keys-note').textContent = (view.keys.source === 'request-log' ? 'From the request log (last 24 h)' : 'From the client keys\' counters') + ', read ' + time(view.keys.checkedAt) + '.';
    }
    renderScopes(view.series);
    drawCharts(view.series);
    document.body.dataset.loaded = 'true';
  }

  function showMessage(text) {
    var message = $('message');
    message.textContent = text;
    message.hidden = false;
  }

  function refresh() {
    var token = sessionStorage.getItem(TOKEN_KEY);
    var headers = { accept: 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    var scope = $('scope').value;
    var url = scope && scope !== 'overall' ? statusUrl + '?series=' + encodeURIComponent(scope) : statusUrl;
    fetch(url, { headers: headers, cache: 'no-store', credentials: 'omit' })
      .then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      })
      .then(function (answer) {
        if (answer.status === 401) {
          var hadToken = Boolean(token);
          sessionStorage.removeItem(TOKEN_KEY);
          $('auth').hidden = false;
          showMessage(hadToken ? 'That token was refused.' : (answer.body && answer.body.error ? answer.body.error.message : 'This page needs the admin token.'));
          return;
        }
        if (answer.status !== 200) throw new Error('status ' + answer.status);
        render(answer.body);
      })
      .catch(function (error) { showMessage('Cannot reach the gateway: ' + error.message); })
      .then(function () { timer = setTimeout(refresh, period); });
  }
  function refreshNow() { clearTimeout(timer); refresh(); }

  $('auth').addEventListener('submit', function (event) {
    event.preventDefault();
    var input = $('token');
    if (input.value) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = '';
    refreshNow();
  });
  $('scope').addEventListener('change', refreshNow);
  refresh();
`;

let script: string | undefined;

/** The whole inline script: the formatters, the charts, the page. */
export function statusPageScript(): string {
  script ??= `
(function () {
  'use strict';
  ${formatZeroG.toString()}
  ${formatDuration.toString()}
  ${formatMs.toString()}
${STATUS_CHARTS_SCRIPT}
${MAIN}
})();
`;
  return script;
}
