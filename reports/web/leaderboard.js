// Script of leaderboard.html: sortable tables, and the charts (Vega-Lite specifications built from the
// page's data block, drawn by Vega-Embed as SVG). Compiled into lesionbench and inlined into each page.
(function () {
  'use strict';

  // ---- sortable tables: click a header; numbers sort by data-v, text by its content ----
  function cellValue(row, index) {
    var cell = row.children[index];
    if (!cell) return '';
    var v = cell.getAttribute('data-v');
    if (v === null) return cell.textContent.trim().toLowerCase();
    if (v === '') return null;  // no value: always last
    var n = Number(v);
    return isNaN(n) ? v.toLowerCase() : n;
  }
  function sortTable(table, th, index) {
    var current = th.getAttribute('aria-sort');
    var first = th.getAttribute('data-first') || 'ascending';
    var dir = current === first ? (first === 'ascending' ? 'descending' : 'ascending') : first;
    Array.prototype.forEach.call(table.querySelectorAll('th[aria-sort]'), function (h) {
      if (h !== th) h.removeAttribute('aria-sort');
    });
    th.setAttribute('aria-sort', dir);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = dir === 'ascending' ? 1 : -1;
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      if (x < y) return -sign;
      if (x > y) return sign;
      return 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.tHead ? table.tHead.rows[table.tHead.rows.length - 1].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      if (!th.classList.contains('sortable')) return;
      th.tabIndex = 0;
      th.addEventListener('click', function () { sortTable(table, th, index); });
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortTable(table, th, index); }
      });
    });
  });

  // ---- pictures: count those the browser could decode (a test reads body[data-images-decoded]) ----
  window.addEventListener('load', function () {
    var images = document.querySelectorAll('figure img');
    var decoded = Array.prototype.filter.call(images, function (img) { return img.complete && img.naturalWidth > 0; });
    document.body.setAttribute('data-images', String(images.length));
    document.body.setAttribute('data-images-decoded', String(decoded.length));
  });

  // ---- charts ----
  var dataNode = document.getElementById('lb-data');
  var data = dataNode ? JSON.parse(dataNode.textContent) : null;
  var containers = Array.prototype.slice.call(document.querySelectorAll('.chart[data-chart]'));
  if (!data || containers.length === 0) {
    document.body.setAttribute('data-charts-rendered', '0');
    return;
  }
  if (typeof window.vegaEmbed !== 'function') {
    containers.forEach(function (el) {
      var msg = document.createElement('div');
      msg.className = 'empty';
      msg.textContent = data.chartsMissing || 'The charting library is not included in this page.';
      el.appendChild(msg);
    });
    document.body.setAttribute('data-charts-rendered', '0');
    return;
  }

  var teamNames = data.teams.map(function (t) { return t.name; });
  var colour = { field: 'team', type: 'nominal', title: 'Team',
    scale: { domain: teamNames, range: data.teams.map(function (t) { return t.colour; }) },
    legend: null };
  var font = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif';
  var config = {
    font: font,
    view: { stroke: null },
    axis: { labelColor: '#5b6576', titleColor: '#172033', gridColor: '#edf0f5', domainColor: '#c3cad6',
      tickColor: '#c3cad6', labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, titlePadding: 8 },
    legend: { labelColor: '#5b6576', titleColor: '#172033', labelFontSize: 11, titleFontSize: 12, orient: 'bottom' },
    axisBand: { grid: false },
    boxplot: { median: { color: '#172033' } }
  };
  var schema = 'https://vega.github.io/schema/vega-lite/v6.json';
  var rowHeight = Math.max(26, Math.min(44, 260 / Math.max(1, teamNames.length)));

  // <round-half-even> numpy's round(v, digits) on the double, then that many decimals: the CSV, the JSON and
  // the printed tables (format_rounded in metrics/case_scores.h) give the same text; toFixed alone would turn
  // 0.12345 into 0.1235. (tests/metrics/test_rounding.cpp evaluates this block with node.)
  function roundHalfEven(v, digits) {
    var scale = Math.pow(10, digits);
    var y = v * scale;
    var r = Math.round(y);
    if (Math.abs(y - Math.trunc(y)) === 0.5) r = 2 * Math.round(y / 2);  // a tie: to the even neighbour
    return (r / scale).toFixed(digits);
  }
  // </round-half-even>
  function fmt(v, digits) {
    if (v === null || v === undefined) return '–';
    var n = Number(v);
    return isFinite(n) ? roundHalfEven(n, digits) : String(n);
  }

  // Tooltips show the same 4-decimal text as the tables (d3-format's '.4f' rounds like toFixed).
  [data.cases || [], data.points || []].forEach(function (rows) {
    rows.forEach(function (r) { r.dsc_text = fmt(r.dsc, 4); r.nsd_text = fmt(r.nsd, 4); });
  });

  function distribution(metric, label) {
    return {
      $schema: schema, config: config, width: 'container', height: rowHeight * teamNames.length,
      data: { values: data.cases },
      encoding: {
        y: { field: 'team', type: 'nominal', sort: teamNames, title: null, axis: { labelFontWeight: 600 } },
        x: { field: metric, type: 'quantitative', title: label + ' per case', scale: { domain: [0, 1] } },
        color: colour
      },
      layer: [
        { mark: { type: 'boxplot', extent: 1.5, size: Math.round(rowHeight * 0.55), opacity: 0.3, outliers: false,
                  ticks: true } },
        { mark: { type: 'point', filled: true, size: 26, opacity: 0.8, stroke: '#ffffff', strokeWidth: 0.5 },
          encoding: {
            yOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-1, 1], range: [-rowHeight * 0.32, rowHeight * 0.32] } },
            shape: { field: 'failed', type: 'nominal', scale: { domain: [false, true], range: ['circle', 'cross'] }, legend: null },
            tooltip: [
              { field: 'team', title: 'Team' }, { field: 'case', title: 'Case' },
              { field: 'dsc_text', title: 'DSC' }, { field: 'nsd_text', title: 'NSD' },
              { field: 'status', title: 'Status' }
            ]
          } }
      ]
    };
  }

  function logIfWide(values) {
    var v = values.filter(function (x) { return x > 0; });
    if (v.length < 2) return { type: 'linear', zero: true };
    var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    return hi / lo > 30 ? { type: 'log' } : { type: 'linear', zero: true };
  }

  function accuracyAgainst(field, label, format) {
    var pts = data.points.filter(function (p) { return p[field] !== null && p[field] !== undefined; });
    var x = { field: field, type: 'quantitative', title: label, scale: logIfWide(pts.map(function (p) { return p[field]; })),
      axis: { format: format } };
    var y = { field: 'dsc', type: 'quantitative', title: 'Mean DSC', scale: { zero: false, nice: true } };
    return {
      $schema: schema, config: config, width: 'container', height: 260,
      data: { values: pts },
      encoding: { x: x, y: y, color: colour },
      layer: [
        { mark: { type: 'point', filled: true, size: 110, opacity: 0.9, stroke: '#ffffff', strokeWidth: 1 },
          encoding: { tooltip: [
            { field: 'team', title: 'Team' }, { field: 'place', title: 'Place' },
            { field: 'dsc_text', title: 'Mean DSC' }, { field: 'nsd_text', title: 'Mean NSD' },
            { field: 'time_median_s', title: 'Median time (s)', format: '.1f' },
            { field: 'gpu_peak_mib', title: 'GPU peak (MiB)', format: ',.0f' },
            { field: 'gpu_auc_mean_mib_s', title: 'GPU AUC mean (MiB·s)', format: ',.0f' }
          ] } },
        { mark: { type: 'text', align: 'left', dx: 9, dy: -7, fontSize: 11, fontWeight: 600 },
          encoding: { text: { field: 'team' }, color: { value: '#334155' } } }
      ]
    };
  }

  function stability() {
    return {
      $schema: schema, config: config, width: 'container', height: rowHeight * teamNames.length,
      data: { values: data.stability },
      mark: { type: 'bar', height: { band: 0.7 } },
      encoding: {
        y: { field: 'team', type: 'nominal', sort: teamNames, title: null, axis: { labelFontWeight: 600 } },
        x: { field: 'fraction', type: 'quantitative', stack: 'zero', title: 'Share of bootstrap resamples',
             axis: { format: '.0%', tickCount: 5 }, scale: { domain: [0, 1] } },
        color: { field: 'place', type: 'ordinal', title: 'Place',
                 scale: { scheme: 'blues', reverse: true }, legend: { orient: 'bottom', direction: 'horizontal' } },
        order: { field: 'place', type: 'ordinal', sort: 'ascending' },
        tooltip: [ { field: 'team', title: 'Team' }, { field: 'place', title: 'Place' },
                   { field: 'fraction', title: 'Share', format: '.1%' } ]
      }
    };
  }

  function gpuSeries(team) {
    var rows = [];
    data.gpu.series.forEach(function (s) {
      if (s.team !== team) return;
      var label = s.case + ' (' + fmt(s.wall_s, 1) + ' s)';
      for (var i = 0; i < s.t.length; ++i) rows.push({ case: label, t: s.t[i], mib: s.mib[i] });
    });
    return {
      $schema: schema, config: config, width: 'container', height: 190,
      data: { values: rows },
      mark: { type: 'line', strokeWidth: 1.8, interpolate: 'linear' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'Seconds since launch' },
        y: { field: 'mib', type: 'quantitative', title: (data.gpu.measure === 'own' ? 'Own' : 'Device') + ' GPU memory (MiB)',
             axis: { format: ',.0f' } },
        color: { field: 'case', type: 'nominal', title: null, scale: { scheme: 'dark2' },
                 legend: { orient: 'bottom', direction: 'vertical', labelLimit: 320 } },
        tooltip: [ { field: 'case', title: 'Case' }, { field: 't', title: 's', format: '.1f' },
                   { field: 'mib', title: 'MiB', format: ',.0f' } ]
      }
    };
  }

  function lesionSensitivity() {
    var buckets = [];
    data.lesion.buckets.forEach(function (b) { if (buckets.indexOf(b.bucket) < 0) buckets.push(b.bucket); });
    return {
      $schema: schema, config: config, width: 'container', height: 240,
      data: { values: data.lesion.buckets },
      mark: { type: 'bar', cornerRadiusEnd: 2 },
      encoding: {
        x: { field: 'bucket', type: 'nominal', sort: buckets, title: 'Lesion volume', axis: { labelAngle: 0 } },
        xOffset: { field: 'team', type: 'nominal', sort: teamNames },
        y: { field: 'sensitivity', type: 'quantitative', title: 'Lesions found', scale: { domain: [0, 1] },
             axis: { format: '.0%' } },
        color: colour,
        tooltip: [ { field: 'team', title: 'Team' }, { field: 'bucket', title: 'Volume' },
                   { field: 'sensitivity', title: 'Sensitivity', format: '.1%' },
                   { field: 'detected', title: 'Found' }, { field: 'n', title: 'Lesions' } ]
      }
    };
  }

  function lesionHealthy() {
    var most = Math.max.apply(null, data.lesion.healthy.map(function (h) { return h.fp; }).concat([1]));
    return {
      $schema: schema, config: config, width: 'container', height: 240,
      data: { values: data.lesion.healthy },
      encoding: {
        x: { field: 'team', type: 'nominal', sort: teamNames, title: null, axis: { labelAngle: 0, labelFontWeight: 600 } },
        y: { field: 'fp', type: 'quantitative', title: 'False-positive components',
             scale: { domain: [0, most], nice: true }, axis: { tickMinStep: 1, format: 'd' } },
        color: colour
      },
      layer: [
        { mark: { type: 'bar', cornerRadiusEnd: 2, width: { band: 0.6 } },
          encoding: { tooltip: [ { field: 'team', title: 'Team' }, { field: 'fp', title: 'FP components' },
                                 { field: 'with_fp', title: 'Healthy cases with FP' },
                                 { field: 'healthy_cases', title: 'Healthy cases' } ] } },
        { mark: { type: 'text', dy: -8, fontSize: 11, color: '#334155' },
          encoding: { text: { field: 'label' } } }
      ]
    };
  }

  // ---- ranking analysis: methods, significance, blob, Kendall's tau, intervals, podium ----
  var rk = data.ranking;
  function metricLabel(name) {
    var m = rk.metrics.filter(function (x) { return x.name === name; })[0];
    return m ? m.label : name;
  }
  var lowerIsBetter = {};  // time, GPU memory and distances (when ranked): the page says "less is better"
  rk.metrics.forEach(function (m) { lowerIsBetter[m.name] = !!m.lower; });

  function methodsPlot() {
    // One label per place at the last method: teams sharing it are named together instead of on top of each other.
    var last = rk.methods[rk.methods.length - 1], byPlace = {};
    rk.places.forEach(function (r) {
      if (r.method === last) (byPlace[r.place] = byPlace[r.place] || []).push(r.team);
    });
    var lastLabels = Object.keys(byPlace).map(function (p) {
      return { method: last, place: Number(p), label: byPlace[p].join(', ') };
    });
    return {
      $schema: schema, config: config, width: 'container', height: Math.max(160, 34 * teamNames.length),
      data: { values: rk.places },
      encoding: {
        x: { field: 'method', type: 'ordinal', sort: rk.methods, title: null,
             axis: { labelAngle: 0, labelLimit: 200, labelFontWeight: 600 } },
        y: { field: 'place', type: 'quantitative', title: 'Place', scale: { reverse: true, domain: [1, teamNames.length], nice: false },
             axis: { tickMinStep: 1, format: 'd' } },
        color: colour,
        detail: { field: 'team' }
      },
      layer: [
        { mark: { type: 'line', strokeWidth: 2, opacity: 0.8 } },
        { mark: { type: 'point', filled: true, size: 80 },
          encoding: { tooltip: [ { field: 'team', title: 'Team' }, { field: 'method', title: 'Method' },
                                 { field: 'place', title: 'Place' } ] } },
        { mark: { type: 'text', align: 'left', dx: 8, fontSize: 11, fontWeight: 600, color: '#334155' },
          data: { values: lastLabels },
          encoding: { text: { field: 'label' }, color: { value: '#334155' }, detail: null } }
      ]
    };
  }

  function significanceMap(metric) {
    var rows = rk.significance.filter(function (r) { return r.metric === metric; }).map(function (r) {
      return { a: r.a, b: r.b, p: r.p, p_adjusted: r.p_adjusted,
               result: r.significant ? 'better' : 'not significantly better' };
    });
    var side = Math.max(24, Math.min(48, 360 / Math.max(1, teamNames.length)));
    return {
      $schema: schema, config: config, width: side * teamNames.length, height: side * teamNames.length,
      data: { values: rows },
      mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 1 },
      encoding: {
        y: { field: 'a', type: 'nominal', sort: teamNames, title: 'Team (row) ...', axis: { labelFontWeight: 600 } },
        x: { field: 'b', type: 'nominal', sort: teamNames, title: '... better than team (column)', axis: { labelAngle: -40 } },
        color: { field: 'result', type: 'nominal', title: null,
                 scale: { domain: ['better', 'not significantly better'], range: ['#2b6cb0', '#e8edf4'] },
                 legend: { orient: 'bottom' } },
        tooltip: [ { field: 'a', title: 'Team' }, { field: 'b', title: 'Against' },
                   { field: 'p', title: 'p', format: '.4g' }, { field: 'p_adjusted', title: 'p adjusted', format: '.4g' },
                   { field: 'result', title: 'Result' } ]
      }
    };
  }

  function blob() {
    return {
      $schema: schema, config: config, width: 'container', height: Math.max(180, 34 * teamNames.length),
      encoding: {
        x: { field: 'team', type: 'nominal', sort: teamNames, title: null,
             axis: { labelAngle: teamNames.length > 5 ? -40 : 0, labelFontWeight: 600 } }
      },
      layer: [
        { data: { values: data.stability },
          mark: { type: 'circle', opacity: 0.75 },
          encoding: {
            y: { field: 'place', type: 'quantitative', title: 'Place', scale: { reverse: true, domain: [1, teamNames.length], nice: false },
                 axis: { tickMinStep: 1, format: 'd' } },
            size: { field: 'fraction', type: 'quantitative', title: 'Share of draws', scale: { domain: [0, 1], range: [0, 900] },
                    legend: { orient: 'bottom', format: '.0%' } },
            color: colour,
            tooltip: [ { field: 'team', title: 'Team' }, { field: 'place', title: 'Place' },
                       { field: 'fraction', title: 'Share', format: '.1%' } ]
          } },
        { data: { values: rk.placeSummary },
          mark: { type: 'rule', color: '#172033', strokeWidth: 1.5 },
          encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
        { data: { values: rk.placeSummary },
          mark: { type: 'point', shape: 'diamond', filled: true, color: '#172033', size: 60 },
          encoding: { y: { field: 'median', type: 'quantitative' },
                      tooltip: [ { field: 'team', title: 'Team' }, { field: 'median', title: 'Median place' },
                                 { field: 'lo', title: '2.5%' }, { field: 'hi', title: '97.5%' } ] } }
      ]
    };
  }

  function tauHistogram() {
    var rows = rk.tau.values.map(function (v) { return { tau: v }; });
    return {
      $schema: schema, config: config, width: 'container', height: 200,
      layer: [
        { data: { values: rows },
          mark: { type: 'bar', color: '#4e79a7', cornerRadiusEnd: 1 },
          encoding: {
            x: { field: 'tau', type: 'quantitative', bin: { extent: [-1, 1], step: 0.05 }, title: "Kendall's tau-b",
                 scale: { domain: [-1, 1] } },
            y: { aggregate: 'count', type: 'quantitative', title: 'Draws' },
            tooltip: [ { aggregate: 'count', title: 'Draws' } ]
          } },
        { data: { values: [ { v: rk.tau.median, what: 'median' } ] },
          mark: { type: 'rule', color: '#172033', strokeWidth: 2, strokeDash: [4, 3] },
          encoding: { x: { field: 'v', type: 'quantitative' },
                      tooltip: [ { field: 'what', title: '' }, { field: 'v', title: 'tau', format: '.3f' } ] } }
      ]
    };
  }

  function meanInterval(metric) {
    var rows = rk.intervals.filter(function (r) { return r.metric === metric; });
    var unit = !!lowerIsBetter[metric];  // seconds, MiB·s, mm: the axis starts at 0
    return {
      $schema: schema, config: config, width: 'container', height: rowHeight * teamNames.length,
      data: { values: rows },
      encoding: {
        y: { field: 'team', type: 'nominal', sort: teamNames, title: null, axis: { labelFontWeight: 600 } },
        color: colour
      },
      layer: [
        { mark: { type: 'rule', strokeWidth: 2.5 },
          encoding: { x: { field: 'lo', type: 'quantitative', title: 'Mean ' + metricLabel(metric) +
                           (lowerIsBetter[metric] ? ' (less is better)' : ''), scale: { zero: !!unit } },
                      x2: { field: 'hi' } } },
        { mark: { type: 'point', filled: true, size: 90, stroke: '#ffffff', strokeWidth: 1 },
          encoding: { x: { field: 'mean', type: 'quantitative' },
                      tooltip: [ { field: 'team', title: 'Team' }, { field: 'mean', title: 'Mean', format: '.4g' },
                                 { field: 'lo', title: '2.5%', format: '.4g' }, { field: 'hi', title: '97.5%', format: '.4g' } ] } }
      ]
    };
  }

  function gapInterval(metric) {
    var rows = rk.intervals.filter(function (r) { return r.metric === metric && r.next !== undefined; })
      .map(function (r) { return Object.assign({ pair: r.team + ' – ' + r.next }, r); });
    var pairs = rows.map(function (r) { return r.pair; });
    return {
      $schema: schema, config: config, width: 'container', height: rowHeight * Math.max(1, rows.length),
      layer: [
        { data: { values: [ { zero: 0 } ] }, mark: { type: 'rule', color: '#9aa3b2', strokeDash: [4, 3] },
          encoding: { x: { field: 'zero', type: 'quantitative' } } },
        { data: { values: rows }, mark: { type: 'rule', strokeWidth: 2.5 },
          encoding: { y: { field: 'pair', type: 'nominal', sort: pairs, title: null },
                      x: { field: 'gap_lo', type: 'quantitative', title: metricLabel(metric) + ': mean minus the next team\'s' },
                      x2: { field: 'gap_hi' }, color: colour } },
        { data: { values: rows }, mark: { type: 'point', filled: true, size: 90, stroke: '#ffffff', strokeWidth: 1 },
          encoding: { y: { field: 'pair', type: 'nominal', sort: pairs }, x: { field: 'gap', type: 'quantitative' }, color: colour,
                      tooltip: [ { field: 'pair', title: 'Teams' }, { field: 'gap', title: 'Gap', format: '.4g' },
                                 { field: 'gap_lo', title: '2.5%', format: '.4g' }, { field: 'gap_hi', title: '97.5%', format: '.4g' } ] } }
      ]
    };
  }

  function podium() {
    // Each team sits at its own offset inside the column of the place it took on the case.
    var n = teamNames.length, width = 0.8 / n;
    var rows = rk.podium.map(function (r) {
      return { case: r.case, team: r.team, value: r.value, rank: r.rank,
               x: r.rank + (teamNames.indexOf(r.team) - (n - 1) / 2) * width };
    });
    var ticks = teamNames.map(function (_, i) { return i + 1; });
    return {
      $schema: schema, config: config, width: 'container', height: 260,
      data: { values: rows },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'Place on the case', scale: { domain: [0.5, n + 0.5], nice: false },
             axis: { values: ticks, format: 'd', grid: false } },
        y: { field: 'value', type: 'quantitative', title: rk.podiumMetric }
      },
      layer: [
        { mark: { type: 'line', color: '#9aa3b2', strokeWidth: 0.8, opacity: 0.5 },
          encoding: { detail: { field: 'case' }, order: { field: 'x', type: 'quantitative' } } },
        { mark: { type: 'point', filled: true, size: 30, opacity: 0.85 },
          encoding: { color: colour,
                      tooltip: [ { field: 'team', title: 'Team' }, { field: 'case', title: 'Case' },
                                 { field: 'value', title: rk.podiumMetric, format: '.4g' }, { field: 'rank', title: 'Place on the case' } ] } }
      ]
    };
  }

  var builders = {
    'dsc-box': function () { return distribution('dsc', 'DSC'); },
    'nsd-box': function () { return distribution('nsd', 'NSD'); },
    'dsc-time': function () { return accuracyAgainst('time_median_s', 'Median time per case (s)', '~g'); },
    'dsc-gpu': function () {
      return accuracyAgainst('gpu_peak_mib', (data.gpu.measure === 'own' ? 'Own' : 'Device') + ' GPU memory peak (MiB)', ',.0f');
    },
    'stability': stability,
    'gpu-series': function (el) { return gpuSeries(el.getAttribute('data-team')); },
    'lesion-sensitivity': lesionSensitivity,
    'lesion-healthy': lesionHealthy,
    'methods': methodsPlot,
    'significance': function (el) { return significanceMap(el.getAttribute('data-metric')); },
    'blob': blob,
    'tau': tauHistogram,
    'mean-ci': function (el) { return meanInterval(el.getAttribute('data-metric')); },
    'gap-ci': function (el) { return gapInterval(el.getAttribute('data-metric')); },
    'podium': podium
  };

  var options = { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } };
  var jobs = containers.map(function (el) {
    var make = builders[el.getAttribute('data-chart')];
    if (!make) return Promise.reject(new Error('unknown chart ' + el.getAttribute('data-chart')));
    return window.vegaEmbed(el, make(el), options).then(function () { el.setAttribute('data-rendered', 'true'); });
  });
  Promise.all(jobs).then(function () {
    document.body.setAttribute('data-charts-rendered', String(jobs.length));
  }, function (err) {
    window.lbReportError('chart failed: ' + (err && err.message ? err.message : err));
  });
})();
