import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration
} from 'chart.js';
import * as React from 'react';

import { runTitle } from '../labels';
import type { LineageModel } from '../model';
import { formatValue } from '../shape';
import {
  paramPoints,
  plotChoices,
  plottedRuns,
  stepSeries,
  type IPoint,
  type ISeries
} from '../table';
import type { IRunSummary } from '../tokens';
import { Message } from './Message';

// only what the two plots use, so the bundle stays small
Chart.register(ScatterController, LineController, PointElement, LineElement, LinearScale, CategoryScale, Tooltip, Legend);

const STEP = 'step';

/** Theme colours, read when drawing: the plot follows light and dark themes. */
function palette(el: HTMLElement): { text: string; grid: string; point: string; picked: string; lines: string[] } {
  const style = getComputedStyle(el);
  const v = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--jp-ui-font-color1', '#333'),
    grid: v('--jp-border-color2', '#ddd'),
    point: v('--jp-brand-color1', '#1976d2'),
    picked: v('--jp-warn-color0', '#e65100'),
    lines: [
      v('--jp-brand-color1', '#1976d2'),
      v('--jp-warn-color0', '#e65100'),
      v('--jp-success-color1', '#388e3c'),
      v('--jp-error-color1', '#d32f2f'),
      v('--jp-info-color0', '#0097a7'),
      v('--jp-ui-font-color2', '#757575')
    ]
  };
}

/** Run detail histories of the plotted runs, fetched as they are asked for. */
function useHistories(model: LineageModel, ids: string[], wanted: boolean) {
  const [loaded, setLoaded] = React.useState<Record<string, Record<string, { step: number; value: number }[]>>>({});
  const key = ids.join(',');
  React.useEffect(() => {
    if (!wanted) {
      return;
    }
    let live = true;
    for (const id of ids) {
      if (!(id in loaded)) {
        model
          .runDetail(id)
          .then(detail => live && setLoaded(old => ({ ...old, [id]: detail.metric_history ?? {} })))
          .catch(() => live && setLoaded(old => ({ ...old, [id]: {} })));
      }
    }
    return () => {
      live = false;
    };
  }, [key, wanted]);
  return ids.filter(id => id in loaded).map(id => ({ run: id, history: loaded[id] }));
}

function scatterConfig(points: IPoint[], x: string, y: string, titles: Map<string, string>, el: HTMLElement): ChartConfiguration {
  const c = palette(el);
  const categorical = points.some(p => typeof p.x === 'string');
  const labels = categorical ? [...new Set(points.map(p => String(p.x)))].sort() : undefined;
  const dataset = (picked: boolean) => ({
    label: picked ? 'selected' : 'runs',
    data: points.filter(p => p.selected === picked).map(p => ({ x: p.x as number, y: p.y, run: p.run })),
    backgroundColor: picked ? c.picked : c.point,
    borderColor: picked ? c.picked : c.point,
    pointRadius: picked ? 6 : 3.5,
    pointHoverRadius: picked ? 8 : 6
  });
  return {
    type: 'scatter',
    data: { labels, datasets: [dataset(false), dataset(true)] },
    options: axes(c, x, y, categorical, titles)
  };
}

function stepConfig(series: ISeries[], y: string, titles: Map<string, string>, el: HTMLElement): ChartConfiguration {
  const c = palette(el);
  return {
    type: 'line',
    data: {
      datasets: series.map((s, i) => ({
        label: titles.get(s.run) ?? s.run,
        data: s.points.map(p => ({ x: p.step, y: p.value, run: s.run })),
        borderColor: c.lines[i % c.lines.length],
        backgroundColor: c.lines[i % c.lines.length],
        pointRadius: 2,
        tension: 0
      }))
    },
    options: axes(c, STEP, y, false, titles, series.length <= 6)
  };
}

function axes(
  c: ReturnType<typeof palette>,
  x: string,
  y: string,
  categorical: boolean,
  titles: Map<string, string>,
  legend = false
): ChartConfiguration['options'] {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: { xAxisKey: 'x', yAxisKey: 'y' },
    scales: {
      x: {
        type: categorical ? 'category' : 'linear',
        title: { display: true, text: x, color: c.text },
        ticks: { color: c.text, maxRotation: 0, autoSkip: true, ...(x === STEP ? { precision: 0 } : {}) },
        grid: { color: c.grid }
      },
      y: {
        type: 'linear',
        title: { display: true, text: y, color: c.text },
        ticks: { color: c.text },
        grid: { color: c.grid }
      }
    },
    plugins: {
      legend: { display: legend, position: 'bottom', labels: { color: c.text, boxWidth: 10, font: { size: 10 } } },
      tooltip: {
        callbacks: {
          label: item => {
            const raw = item.raw as { x: number | string; y: number; run: string };
            return `${titles.get(raw.run) ?? raw.run}: ${x} ${formatValue(raw.x)}, ${y} ${formatValue(raw.y)}`;
          }
        }
      }
    }
  };
}

/** A chart.js chart on a canvas, rebuilt when its configuration changes. */
function Canvas(props: { make: (el: HTMLElement) => ChartConfiguration; deps: unknown[]; label: string }): JSX.Element {
  const canvas = React.useRef<HTMLCanvasElement>(null);
  const [theme, setTheme] = React.useState(document.body.dataset.jpThemeName ?? '');
  React.useEffect(() => {
    const watch = new MutationObserver(() => setTheme(document.body.dataset.jpThemeName ?? ''));
    watch.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-name'] });
    return () => watch.disconnect();
  }, []);
  React.useEffect(() => {
    const el = canvas.current;
    if (!el) {
      return;
    }
    const chart = new Chart(el, props.make(el));
    return () => chart.destroy();
  }, [...props.deps, theme]);
  return (
    <div className="jp-Lineage-plot-canvas">
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </div>
  );
}

/**
 * A metric across runs: against a parameter (every run in the table, the selected ones
 * highlighted) or against the step (one line per selected run, else the first rows).
 */
export function RunsPlot(props: { model: LineageModel; rows: IRunSummary[] }): JSX.Element {
  const { model, rows } = props;
  const choices = plotChoices(rows);
  const sortMetric = model.sort?.key.startsWith('metric:') ? model.sort.key.slice(7) : null;
  const y =
    model.plotY && choices.metrics.includes(model.plotY)
      ? model.plotY
      : sortMetric ?? choices.metrics[0] ?? null;
  const x =
    model.plotX && (model.plotX === STEP || choices.params.includes(model.plotX))
      ? model.plotX
      : choices.params[0] ?? STEP;
  const titles = new Map(rows.map(r => [r.id, runTitle(r)]));
  const stepRuns = plottedRuns(rows, model.selection);
  const histories = useHistories(model, stepRuns, x === STEP);
  if (!y) {
    return (
      <Message
        title="No metrics to plot yet."
        hint="Record one with jupyter_lineage.log_metric(name, value) — or with step=N for a curve."
      />
    );
  }
  const points = x === STEP ? [] : paramPoints(rows, x, y, model.selection);
  const series = x === STEP ? stepSeries(histories, y) : [];
  const count = x === STEP ? series.length : points.length;
  const caption =
    x === STEP
      ? count === 0
        ? histories.length < stepRuns.length
          ? 'Loading the metric history…'
          : `No run here logged ${y} with steps (jupyter_lineage.log_metric(name, value, step=N)).`
        : `${y} by step: ${count} ${count === 1 ? 'run' : 'runs'}${model.selection.length ? ' (selected)' : ' (the first rows; select runs to choose)'}`
      : `${y} against ${x}: ${count} ${count === 1 ? 'run' : 'runs'}${model.selection.length ? `, ${model.selection.length} selected` : ''}`;
  return (
    <figure
      className="jp-Lineage-plot"
      data-x={x}
      data-y={y}
      data-count={count}
      aria-label={`Plot of ${y} against ${x}`}
    >
      <div className="jp-Lineage-plot-controls">
        <label>
          <span>Metric</span>
          <select className="jp-mod-styled" aria-label="Metric to plot" value={y} onChange={e => model.setPlot(true, x, e.target.value)}>
            {choices.metrics.map(m => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>against</span>
          <select className="jp-mod-styled" aria-label="Plot against" value={x} onChange={e => model.setPlot(true, e.target.value, y)}>
            {choices.params.map(p => (
              <option key={p} value={p}>
                {`parameter ${p}`}
              </option>
            ))}
            <option value={STEP}>step</option>
          </select>
        </label>
      </div>
      {count > 0 && (
        <Canvas
          label={caption}
          deps={[x, y, JSON.stringify(x === STEP ? series : points), [...titles.values()].join()]}
          make={el => (x === STEP ? stepConfig(series, y, titles, el) : scatterConfig(points, x, y, titles, el))}
        />
      )}
      <figcaption>{caption}</figcaption>
    </figure>
  );
}
