/**
 * The runs table and its plot as data: columns, values, sorting, the filter's conditions and
 * the plotted points. Pure functions (unit-tested in Node).
 */
import { formatDuration, formatValue } from './shape';
import type { IMetricStep, IRunSummary, ISort, JSONValue } from './tokens';

export type ColumnKind = 'run' | 'duration' | 'param' | 'metric';

export interface IColumn {
  key: string;
  kind: ColumnKind;
  /** The parameter's or metric's name; the column's title otherwise. */
  name: string;
}

export const RUN_COLUMN: IColumn = { key: 'run', kind: 'run', name: 'Run' };

/** Every column the runs can fill: duration, then each parameter, then each metric, by name. */
export function tableColumns(runs: IRunSummary[]): IColumn[] {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const run of runs) {
    Object.keys(run.parameters).forEach(name => params.add(name));
    Object.keys(run.metrics).forEach(name => metrics.add(name));
  }
  return [
    { key: 'duration', kind: 'duration', name: 'Duration' },
    ...[...params].sort().map(name => ({ key: `param:${name}`, kind: 'param' as const, name })),
    ...[...metrics].sort().map(name => ({ key: `metric:${name}`, kind: 'metric' as const, name }))
  ];
}

export function cellValue(run: IRunSummary, column: IColumn): JSONValue | undefined {
  switch (column.kind) {
    case 'run':
      return run.started;
    case 'duration':
      return run.duration_s;
    case 'param':
      return run.parameters[column.name];
    case 'metric':
      return run.metrics[column.name];
  }
}

export function cellText(run: IRunSummary, column: IColumn): string {
  const value = cellValue(run, column);
  if (column.kind === 'duration') {
    return formatDuration(run.duration_s);
  }
  return value === undefined || value === null ? '—' : formatValue(value);
}

export function columnByKey(key: string): IColumn {
  if (key === 'run') {
    return RUN_COLUMN;
  }
  if (key === 'duration') {
    return { key, kind: 'duration', name: 'Duration' };
  }
  const [kind, ...rest] = key.split(':');
  return { key, kind: kind === 'param' ? 'param' : 'metric', name: rest.join(':') };
}

/** A first click on a metric sorts best (highest) first; on anything else, lowest first. */
export function firstDirection(column: IColumn): 'asc' | 'desc' {
  return column.kind === 'metric' || column.kind === 'run' ? 'desc' : 'asc';
}

/** The next sort after clicking a column's header: its first direction, then the other. */
export function nextSort(current: ISort | null, column: IColumn): ISort {
  if (current && current.key === column.key) {
    return { key: column.key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  }
  return { key: column.key, dir: firstDirection(column) };
}

function compareValues(a: JSONValue | undefined, b: JSONValue | undefined): number {
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  return String(formatValue(a)).localeCompare(String(formatValue(b)), undefined, {
    numeric: true
  });
}

/** Sorted by a column; runs without a value go last either way; ties keep newest first. */
export function sortRuns(runs: IRunSummary[], sort: ISort | null): IRunSummary[] {
  if (!sort) {
    return runs;
  }
  const column = columnByKey(sort.key);
  const sign = sort.dir === 'asc' ? 1 : -1;
  return runs
    .map((run, index) => ({ run, index, value: cellValue(run, column) }))
    .sort((x, y) => {
      const xMissing = x.value === undefined || x.value === null;
      const yMissing = y.value === undefined || y.value === null;
      if (xMissing || yMissing) {
        return xMissing === yMissing ? x.index - y.index : xMissing ? 1 : -1;
      }
      return sign * compareValues(x.value, y.value) || x.index - y.index;
    })
    .map(item => item.run);
}

/**
 * The filter box as `runs --where` conditions: separated by commas or the word "and"
 * (`auc > 0.8, params.C = 0.5`). The server checks each one and says what is wrong.
 */
export function parseWhere(text: string): string[] {
  return text
    .split(/,|\band\b/i)
    .map(part => part.trim())
    .filter(Boolean);
}

export interface IPlotChoices {
  metrics: string[];
  /** Parameters that vary across the runs first: a constant one makes a flat plot. */
  params: string[];
}

export function plotChoices(runs: IRunSummary[]): IPlotChoices {
  const columns = tableColumns(runs);
  const distinct = (name: string): number =>
    new Set(runs.map(r => JSON.stringify(r.parameters[name] ?? null))).size;
  const params = columns.filter(c => c.kind === 'param').map(c => c.name);
  return {
    metrics: columns.filter(c => c.kind === 'metric').map(c => c.name),
    params: params.filter(p => distinct(p) > 1).concat(params.filter(p => distinct(p) <= 1))
  };
}

export interface IPoint {
  run: string;
  x: number | string;
  y: number;
  selected: boolean;
}

/** One point per run that has both the parameter and the metric (metric against parameter). */
export function paramPoints(
  runs: IRunSummary[],
  param: string,
  metric: string,
  selected: string[]
): IPoint[] {
  const points: IPoint[] = [];
  for (const run of runs) {
    const x = run.parameters[param];
    const y = run.metrics[metric];
    if (typeof y !== 'number' || x === undefined || x === null) {
      continue;
    }
    points.push({
      run: run.id,
      x: typeof x === 'number' ? x : formatValue(x),
      y,
      selected: selected.includes(run.id)
    });
  }
  return points;
}

export interface ISeries {
  run: string;
  points: IMetricStep[];
}

/** One line per run with a history of the metric (metric against step). */
export function stepSeries(
  histories: { run: string; history: Record<string, IMetricStep[]> }[],
  metric: string
): ISeries[] {
  return histories
    .map(h => ({ run: h.run, points: (h.history[metric] ?? []).slice() }))
    .filter(s => s.points.length > 0)
    .map(s => ({ ...s, points: s.points.sort((a, b) => a.step - b.step) }));
}

/** The runs a step plot draws: the selected ones, else the first few rows as shown. */
export function plottedRuns(rows: IRunSummary[], selected: string[], max = 5): string[] {
  return selected.length ? selected.slice(0, 10) : rows.slice(0, max).map(r => r.id);
}
