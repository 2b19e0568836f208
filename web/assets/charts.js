// Charts for reports: ECharts (assets/vendor/echarts.min.js) loaded on first use
// only, so pages without charts never download it; one generic renderer turns a
// reportview Chart (bar, line, pie, funnel, barline) into an ECharts option.
import { h } from './dom.js';
import { fmtMoney } from './format.js';

const SRC = '/assets/vendor/echarts.min.js';
let loading = null;

export function loadECharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = SRC;
      s.async = true;
      s.onload = () => (window.echarts ? resolve(window.echarts) : reject(new Error('echarts')));
      s.onerror = () => { loading = null; s.remove(); reject(new Error('echarts')); };
      document.head.appendChild(s);
    });
  }
  return loading;
}

// fmtValue shows a value by its reportview format: money from fen, ratios as %.
export function fmtValue(format, v) {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v !== 'number') return String(v);
  switch (format) {
    case 'money': return fmtMoney(Math.round(v));
    case 'percent': return `${(v * 100).toFixed(1)}%`;
    case 'int': return Math.round(v).toLocaleString('en-US');
    case 'number': return v.toFixed(2);
    default: return String(v);
  }
}

// Axis labels: money in whole yuan, compact (¥12k, ¥1.2M).
function axisLabel(format) {
  return (v) => {
    if (format === 'percent') return `${Math.round(v * 100)}%`;
    const n = format === 'money' ? v / 100 : v;
    const a = Math.abs(n);
    const s = a >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : a >= 1e4 ? `${+(n / 1e3).toFixed(0)}k` : String(+n.toFixed(2));
    return format === 'money' ? `¥${s}` : s;
  };
}

// chartOption is the ECharts option for a reportview chart.
export function chartOption(c, { narrow } = {}) {
  const series = c.series || [];
  const fmtTip = (s) => (v) => fmtValue(s.format, v);
  const base = {
    animation: false,
    color: ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc'],
    // richText: tooltips drawn on the canvas, so no name is ever parsed as HTML.
    tooltip: { trigger: c.kind === 'pie' || c.kind === 'funnel' ? 'item' : 'axis', confine: true, renderMode: 'richText' },
    legend: { top: 0, type: 'scroll' },
  };
  if (c.kind === 'pie') {
    const s = series[0] || { values: [] };
    return {
      ...base,
      legend: { ...base.legend, show: !narrow || (c.categories || []).length <= 6 },
      tooltip: { ...base.tooltip, valueFormatter: fmtTip(s) },
      series: [{
        type: 'pie', name: s.name, radius: narrow ? ['30%', '60%'] : ['35%', '65%'], center: ['50%', '58%'],
        data: (c.categories || []).map((name, i) => ({ name, value: s.values[i] })),
        // On a phone the legend names the slices; labels would not fit beside them.
        label: narrow ? { show: false } : { formatter: '{b}: {d}%' },
      }],
    };
  }
  if (c.kind === 'funnel') {
    const s = series[0] || { values: [] };
    const others = series.slice(1);
    return {
      ...base,
      tooltip: {
        ...base.tooltip,
        formatter: (p) => [p.name, `${s.name}: ${fmtValue(s.format, p.value)}`,
          ...others.map((o) => `${o.name}: ${fmtValue(o.format, o.values[p.dataIndex])}`)].join('\n'),
      },
      series: [{
        type: 'funnel', name: s.name, sort: 'none', top: 30, bottom: 10, left: '10%', width: '80%', minSize: '8%',
        data: (c.categories || []).map((name, i) => ({ name, value: s.values[i] })),
        label: { position: 'inside', formatter: (p) => `${p.name} ${fmtValue(s.format, p.value)}` },
      }],
    };
  }
  // bar, line, barline: one or two value axes (barline: bars left, lines right).
  const barline = c.kind === 'barline' && series.length > 1;
  // Counts get whole-number ticks.
  const axis = (s) => ({ type: 'value', minInterval: s && s.format === 'int' ? 1 : 0, axisLabel: { formatter: axisLabel(s && s.format) } });
  const yAxis = [axis(series[0])];
  if (barline) yAxis.push({ ...axis(series[1]), splitLine: { show: false } });
  const many = (c.categories || []).length > 12;
  return {
    ...base,
    grid: { left: 8, right: 8, top: 36, bottom: many ? 48 : 8, containLabel: true },
    xAxis: { type: 'category', data: c.categories || [], axisLabel: { hideOverlap: true, rotate: narrow && many ? 30 : 0 } },
    yAxis,
    dataZoom: many ? [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 4 }] : [],
    series: series.map((s, i) => {
      const kind = c.kind === 'line' ? 'line' : c.kind === 'bar' ? 'bar' : i === 0 ? 'bar' : 'line';
      return {
        type: kind, name: s.name, data: s.values, yAxisIndex: barline && i > 0 ? 1 : 0,
        tooltip: { valueFormatter: fmtTip(s) }, smooth: false, showSymbol: kind === 'line' && !many,
      };
    }),
  };
}

// mountChart draws c into a new box and returns {el, dispose}. onClick(i)
// gets the category index of a clicked bar, point, slice or stage.
export function mountChart(echarts, c, { onClick, testid } = {}) {
  const box = h('div', { class: ['chart-box', `chart-${c.kind}`], 'data-testid': testid || 'report-chart', 'data-kind': c.kind, 'data-id': c.id || '' });
  const el = h('section', { class: 'card report-chart' },
    h('h3', { class: 'report-chart-title' }, c.title), box);
  let chart = null;
  let ro = null;
  const draw = () => {
    if (chart || !box.isConnected) return;
    chart = echarts.init(box, null, { renderer: 'canvas' });
    chart.setOption(chartOption(c, { narrow: box.clientWidth < 500 }));
    if (onClick) chart.on('click', (p) => { if (p && typeof p.dataIndex === 'number') onClick(p.dataIndex); });
    ro = new ResizeObserver(() => chart && chart.resize());
    ro.observe(box);
  };
  return {
    el,
    draw,
    dispose() { if (ro) ro.disconnect(); if (chart) chart.dispose(); chart = null; },
  };
}
