import { describe, expect, it } from 'vitest';

import {
  cellText,
  columnByKey,
  nextSort,
  paramPoints,
  parseWhere,
  plotChoices,
  plottedRuns,
  sortRuns,
  stepSeries,
  tableColumns
} from '../src/table';
import { run } from './fixtures';

const runs = [
  run('c', { started: '2026-11-30T12:00:00Z', parameters: { C: 2, solver: 'lbfgs' }, metrics: { auc: 0.81 }, duration_s: 3 }),
  run('b', { started: '2026-11-30T11:00:00Z', parameters: { C: 0.5, solver: 'lbfgs' }, metrics: { auc: 0.9, loss: 0.2 }, duration_s: 1 }),
  run('a', { started: '2026-11-30T10:00:00Z', parameters: { C: 1, solver: 'lbfgs' }, metrics: {}, duration_s: null })
];
const ids = (rows: { id: string }[]) => rows.map(r => r.id);

describe('runs table', () => {
  it('has a column per parameter and metric, by name, after the duration', () => {
    expect(tableColumns(runs).map(c => c.key)).toEqual([
      'duration', 'param:C', 'param:solver', 'metric:auc', 'metric:loss'
    ]);
    expect(columnByKey('metric:a:b')).toEqual({ key: 'metric:a:b', kind: 'metric', name: 'a:b' });
    expect(cellText(runs[2], columnByKey('metric:auc'))).toBe('—');
    expect(cellText(runs[0], columnByKey('duration'))).toBe('3.0 s');
  });

  it('sorts a metric best first on the first click, then the other way; missing last', () => {
    const auc = columnByKey('metric:auc');
    const first = nextSort(null, auc);
    expect(first).toEqual({ key: 'metric:auc', dir: 'desc' });
    expect(ids(sortRuns(runs, first))).toEqual(['b', 'c', 'a']);
    const second = nextSort(first, auc);
    expect(second.dir).toBe('asc');
    expect(ids(sortRuns(runs, second))).toEqual(['c', 'b', 'a']);
  });

  it('sorts parameters lowest first and runs by when they started', () => {
    expect(ids(sortRuns(runs, nextSort(null, columnByKey('param:C'))))).toEqual(['b', 'a', 'c']);
    expect(ids(sortRuns(runs, { key: 'run', dir: 'asc' }))).toEqual(['a', 'b', 'c']);
    expect(ids(sortRuns(runs, { key: 'duration', dir: 'desc' }))).toEqual(['c', 'b', 'a']);
    expect(sortRuns(runs, null)).toBe(runs);
  });

  it('splits the filter into runs --where conditions', () => {
    expect(parseWhere('auc > 0.8, params.C = 0.5')).toEqual(['auc > 0.8', 'params.C = 0.5']);
    expect(parseWhere('auc > 0.8 AND loss < 0.3')).toEqual(['auc > 0.8', 'loss < 0.3']);
    expect(parseWhere('  ')).toEqual([]);
    expect(parseWhere('params.band = sandy')).toEqual(['params.band = sandy']); // "and" inside a word
  });
});

describe('plot', () => {
  it('offers the metrics, and the parameters that vary first', () => {
    expect(plotChoices(runs)).toEqual({ metrics: ['auc', 'loss'], params: ['C', 'solver'] });
    const varied = runs.map((r, i) => ({ ...r, parameters: { ...r.parameters, solver: `s${i}`, C: 1 } }));
    expect(plotChoices(varied).params).toEqual(['solver', 'C']);
  });

  it('plots a metric against a parameter, one point per run that has both', () => {
    const points = paramPoints(runs, 'C', 'auc', ['b']);
    expect(points).toEqual([
      { run: 'c', x: 2, y: 0.81, selected: false },
      { run: 'b', x: 0.5, y: 0.9, selected: true }
    ]);
    expect(paramPoints(runs, 'solver', 'auc', [])[0].x).toBe('lbfgs');
  });

  it('plots a metric against the step, one line per run with a history', () => {
    const series = stepSeries(
      [
        { run: 'a', history: { loss: [{ step: 1, value: 0.5 }, { step: 0, value: 0.9 }] } },
        { run: 'b', history: { auc: [{ step: 0, value: 0.7 }] } }
      ],
      'loss'
    );
    expect(series).toEqual([{ run: 'a', points: [{ step: 0, value: 0.9 }, { step: 1, value: 0.5 }] }]);
    expect(plottedRuns(runs, [])).toEqual(['c', 'b', 'a']);
    expect(plottedRuns(runs, ['a'])).toEqual(['a']);
  });
});
