/**
 * The status page's charts (browser code, inline in the page): four uPlot charts of the last hour
 * (requests/s, error rate, TTFT p50/p95, latency p50/p95) of the scope chosen (all providers or
 * one). Each chart's container carries `data-points`: how many buckets hold data (for tests).
 */
export const STATUS_CHARTS_SCRIPT = String.raw`
  var charts = {};
  var CHARTS = [
    { id: 'chart-rate', series: [{ label: 'requests/s', key: 'requestsPerSecond', color: '--bar' }] },
    { id: 'chart-errors', series: [{ label: 'errors %', key: 'errorRate', color: '--bad', scale: 100 }] },
    { id: 'chart-ttft', series: [{ label: 'p50', key: 'ttftP50Ms', color: '--bar' }, { label: 'p95', key: 'ttftP95Ms', color: '--p95' }] },
    { id: 'chart-latency', series: [{ label: 'p50', key: 'latencyP50Ms', color: '--bar' }, { label: 'p95', key: 'latencyP95Ms', color: '--p95' }] },
  ];
  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888'; }
  function chartWidth(node) { return Math.max(240, node.clientWidth - 24); }
  function chartData(spec, series) {
    var data = [series.time];
    spec.series.forEach(function (line) {
      data.push(series[line.key].map(function (value) { return value === null ? null : (line.scale ? Math.round(value * line.scale * 10) / 10 : value); }));
    });
    return data;
  }
  function points(spec, series) {
    var first = series[spec.series[0].key];
    var count = 0;
    for (var index = 0; index < first.length; index++) if (first[index] !== null && first[index] !== 0) count++;
    return count;
  }
  function drawCharts(series) {
    if (typeof uPlot !== 'function') return;
    var muted = cssVar('--muted');
    var grid = cssVar('--line');
    CHARTS.forEach(function (spec) {
      var node = document.getElementById(spec.id);
      var data = chartData(spec, series);
      node.dataset.points = String(points(spec, series));
      var chart = charts[spec.id];
      if (chart) { chart.setData(data); return; }
      var options = {
        width: chartWidth(node),
        height: 170,
        scales: { x: { time: true }, y: { range: function (self, min, max) { return [0, Math.max(max || 0, spec.id === 'chart-errors' ? 5 : 1) * 1.1]; } } },
        axes: [
          { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
          { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 52 },
        ],
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        series: [{}].concat(spec.series.map(function (line) {
          var color = cssVar(line.color);
          // Points too: a bucket alone between empty ones has no line to draw.
          return { label: line.label, stroke: color, width: 2, spanGaps: false, points: { show: true, size: 5, stroke: color, fill: color } };
        })),
      };
      charts[spec.id] = new uPlot(options, data, node);
    });
  }
  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (id) {
      var node = document.getElementById(id);
      charts[id].setSize({ width: chartWidth(node), height: 170 });
    });
  });
`;
