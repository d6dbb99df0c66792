/**
 * The status page's script (inline in the page, allowed by its hash in the page's CSP). It polls
 * `/admin/status` and rebuilds the table with `textContent` only (provider names and errors are
 * never parsed as HTML). When that route answers 401 it asks for the admin token, keeps it in
 * `sessionStorage` (this tab only, gone when it closes) and sends it as a bearer token.
 * `?refresh=<ms>` sets the period (default 2000, at least 250).
 */
export const STATUS_PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var TOKEN_KEY = 'zg-gateway.adminToken';
  var params = new URLSearchParams(location.search);
  var period = Math.max(250, Number(params.get('refresh')) || 2000);
  var statusUrl = new URL('admin/status', location.href).href;
  var $ = function (id) { return document.getElementById(id); };
  var timer = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function badge(text, tone) { return el('span', 'badge ' + tone, text); }
  function ms(value) { return value === null || value === undefined ? '-' : (value < 10 ? value.toFixed(1) : Math.round(value)) + ' ms'; }
  function neuron(text) {
    var value = BigInt(text);
    var unit = BigInt('1000000000000000000');
    if (value >= unit / BigInt(1000000)) {
      var micro = value * BigInt(1000000) / unit;
      return (Number(micro) / 1e6).toFixed(6) + ' 0G';
    }
    if (value >= BigInt(1000000)) return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 }).format(Number(value)) + ' neuron';
    return value.toLocaleString('en-US') + ' neuron';
  }
  function tone(state) {
    if (state === 'closed' || state === 'ok' || state === 'trusted' || state === 'active' || state === 'healthy') return 'good';
    if (state === 'half-open' || state === 'draining' || state === 'degraded') return 'warn';
    return 'bad';
  }
  function cell(row, field, content, title) {
    var td = el('td');
    td.dataset.field = field;
    if (typeof content === 'string' || typeof content === 'number') td.textContent = String(content);
    else if (content) td.appendChild(content);
    if (title) td.title = title;
    row.appendChild(td);
    return td;
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

  function render(view) {
    $('auth').hidden = true;
    $('message').hidden = true;
    var overall = $('overall');
    overall.textContent = view.status;
    overall.className = 'badge ' + tone(view.status);
    $('strategy').textContent = view.strategy;
    $('in-flight').textContent = String(view.inFlight);
    $('served').textContent = String(view.served);
    $('spend').textContent = neuron(view.spendNeuron);
    $('spend').title = view.spendNeuron + ' neuron';
    $('updated').textContent = new Date(view.generatedAt).toLocaleTimeString();
    var body = $('providers');
    var rows = document.createDocumentFragment();
    view.providers.forEach(function (provider) {
      var row = el('tr');
      row.dataset.provider = provider.id;
      var name = el('div', 'name', provider.id);
      var sub = el('div', 'sub', provider.kind + ' · ' + (provider.models.join(', ') || 'any model'));
      var who = el('div');
      who.appendChild(name);
      who.appendChild(sub);
      cell(row, 'id', who);
      cell(row, 'health', badge(provider.inRotation ? 'in rotation' : 'out', provider.inRotation ? 'good' : 'bad'), provider.outOfRotationReason || '');
      cell(row, 'breaker', badge(provider.breaker, tone(provider.breaker)));
      cell(row, 'funding', badge(provider.funding, tone(provider.funding)));
      cell(row, 'trust', badge(provider.trust, tone(provider.trust)));
      cell(row, 'inFlight', provider.inFlight);
      cell(row, 'served', provider.served);
      cell(row, 'failures', provider.failures, 'error rate ' + provider.errorRate);
      cell(row, 'latency', ms(provider.latencyMs.p50) + ' / ' + ms(provider.latencyMs.p95));
      cell(row, 'share', shareBar(provider.share));
      cell(row, 'spend', neuron(provider.spendNeuron), provider.spendNeuron + ' neuron');
      cell(row, 'lastError', provider.lastError || '-');
      rows.appendChild(row);
    });
    body.replaceChildren(rows);
    $('empty').hidden = view.providers.length > 0;
    var failed = $('failed');
    failed.replaceChildren();
    view.failedProviders.forEach(function (entry) { failed.appendChild(el('li', '', entry.address + ' — ' + entry.code + ': ' + entry.message)); });
    $('failed-section').hidden = view.failedProviders.length === 0;
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
    fetch(statusUrl, { headers: headers, cache: 'no-store', credentials: 'omit' })
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

  $('auth').addEventListener('submit', function (event) {
    event.preventDefault();
    var input = $('token');
    if (input.value) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = '';
    clearTimeout(timer);
    refresh();
  });
  refresh();
})();
`;
