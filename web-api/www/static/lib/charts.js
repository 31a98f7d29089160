// Chart.js (vendored UMD build, loaded by each index.html as a classic script: window.Chart) as a
// Preact component. The chart is rebuilt when its data changes; no animation (tests and polling).
import { html, useEffect, useRef } from './preact.js';

// kind: 'line' | 'bar'; labels: x labels; series: [{label, data, color?}]; y: axis title.
export function Chart({ kind = 'line', labels, series, y, height = 220, label }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    const C = globalThis.Chart;
    if (!C || !canvas.current) return undefined;
    const palette = ['#1769aa', '#e07b00', '#2e7d32', '#8e24aa', '#c62828'];
    const config = {
      type: kind,
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label,
          data: s.data,
          borderColor: s.color || palette[i % palette.length],
          backgroundColor: s.color || palette[i % palette.length],
          pointRadius: kind === 'line' && s.data.length > 60 ? 0 : 2,
          tension: 0.2,
          stepped: s.stepped || false,
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: !!y, text: y } } },
        plugins: { legend: { display: series.length > 1 } },
      },
    };
    if (chart.current) chart.current.destroy();
    chart.current = new C(canvas.current, config);
    return undefined;
  }, [kind, JSON.stringify(labels), JSON.stringify(series), y]);
  useEffect(() => () => chart.current?.destroy(), []);
  return html`<div class="chart" style=${{ height: `${height}px` }}>
    <canvas ref=${canvas} role="img" aria-label=${label || y || ''}></canvas>
  </div>`;
}
