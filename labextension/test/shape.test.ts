import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';

import { labelContext, nodeLines } from '../src/labels';
import {
  boxSize,
  defaultPair,
  diffLines,
  diffSections,
  drawnEdges,
  formatDuration,
  formatValue,
  formatWhen,
  newestRun,
  relativePath,
  runsSignature,
  sectionSize,
  shortHash,
  toElk,
  upstream
} from '../src/shape';
import type { IDiff, IGraph } from '../src/tokens';
import { RUN, run, trainGraph } from './fixtures';

describe('formats', () => {
  it('formats durations, times and values', () => {
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(2.54)).toBe('2.5 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(3720)).toBe('1 h 2 min');
    expect(formatDuration(null)).toBe('—');
    const now = new Date('2026-11-30T12:00:00Z');
    expect(formatWhen('2026-11-30T11:59:50Z', now)).toBe('just now');
    expect(formatWhen('2026-11-30T11:55:00Z', now)).toBe('5 min ago');
    expect(formatWhen('2026-11-30T09:00:00Z', now)).toBe('3 h ago');
    expect(formatWhen('not a date', now)).toBe('not a date');
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(2)).toBe('2');
    expect(formatValue({ a: [1] })).toBe('{"a":[1]}');
    expect(shortHash('blake3:d3241fe1aa9b')).toBe('d3241fe1');
    expect(relativePath('/p/out/model.joblib', '/p')).toBe('out/model.joblib');
    expect(relativePath('/elsewhere/x.csv', '/p')).toBe('/elsewhere/x.csv');
  });

});

describe('runs', () => {
  it('changes signature when a run records another cell or ends', () => {
    const a = [run('b'), run('a')];
    expect(runsSignature(a)).toBe(runsSignature([run('b'), run('a')]));
    expect(runsSignature(a)).not.toBe(runsSignature([run('b', { executions: 9 }), run('a')]));
    expect(runsSignature(a)).not.toBe(runsSignature([run('b', { status: 'failed' }), run('a')]));
  });

  it('compares the newest run with the one before by default', () => {
    expect(defaultPair([run('new'), run('old'), run('older')])).toEqual(['old', 'new']);
    expect(defaultPair([run('only')])).toBeNull();
  });
});

describe('graph', () => {
  const lines = (g: IGraph) => {
    const ctx = labelContext(g);
    return (node: IGraph['nodes'][number]) => nodeLines(ctx, node);
  };

  it('builds ELK input with every node sized to its lines and dangling edges dropped', () => {
    const g = trainGraph();
    g.edges.push({ source: 'csv', target: 'gone', type: 'read' });
    const elk = toElk(g, lines(g));
    expect(elk.children.map(c => c.id)).toEqual(g.nodes.map(n => n.id));
    // 1 read, 3 next, 2 wrote and the run's edge to its first cell only
    expect(elk.edges).toHaveLength(7);
    expect(elk.layoutOptions['elk.direction']).toBe('DOWN');
    expect(toElk(g, lines(g), 'RIGHT').layoutOptions['elk.direction']).toBe('RIGHT');
    for (const child of elk.children) {
      expect(child.width).toBeGreaterThanOrEqual(60);
    }
    const byId = Object.fromEntries(elk.children.map(c => [c.id, c]));
    expect(byId.csv.height).toBe(boxSize(['a', 'b']).height); // name and version
    expect(byId[`${RUN}:fit`].height).toBe(boxSize(['a']).height); // touched no file: one line
    expect(boxSize(['a', 'b']).height).toBeGreaterThan(boxSize(['a']).height);
    expect(boxSize(['x'.repeat(40)]).width).toBeGreaterThan(boxSize(['x'.repeat(10)]).width);
  });

  it('draws a run joined to its first cell only; upstream still walks every edge', () => {
    const drawn = drawnEdges(trainGraph()).filter(e => e.type === 'contains');
    expect(drawn).toEqual([{ source: RUN, target: `${RUN}:read`, type: 'contains' }]);
    expect(upstream(trainGraph(), `${RUN}:plot`).nodes.has(RUN)).toBe(true);
  });

  it('lays out with ELK: every node placed, data above the cells above the model', async () => {
    const g = trainGraph();
    const result = await new ELK().layout(toElk(g, lines(g)) as any);
    const y = Object.fromEntries((result.children ?? []).map(c => [c.id, c.y ?? NaN]));
    expect(Object.keys(y)).toHaveLength(8);
    expect(y.csv).toBeLessThan(y[`${RUN}:read`]);
    expect(y[`${RUN}:read`]).toBeLessThan(y[`${RUN}:dump`]);
    expect(y[`${RUN}:dump`]).toBeLessThan(y.model);
    for (const edge of result.edges ?? []) {
      expect((edge as any).sections?.length).toBeGreaterThan(0);
    }
  });

  it('finds the upstream path of the model and not of the figure written after it', () => {
    const path = upstream(trainGraph(), 'model');
    expect([...path.nodes].sort()).toEqual(
      ['csv', 'model', RUN, `${RUN}:dump`, `${RUN}:fit`, `${RUN}:read`].sort()
    );
    expect(path.nodes.has('png')).toBe(false);
    expect(path.nodes.has(`${RUN}:plot`)).toBe(false);
    expect(path.edges.has(`csv->${RUN}:read:read`)).toBe(true);
    expect(path.edges.has(`${RUN}:plot->png:wrote`)).toBe(false);
  });

  it('follows dataflow: a cell is upstream only through the variables it gave', () => {
    const graph = trainGraph();
    // the plot used `model` from fit (not dump's output); dump used `model` too
    graph.edges = graph.edges
      .filter(e => e.type !== 'next')
      .concat([
        { source: `${RUN}:read`, target: `${RUN}:fit`, type: 'flow', names: ['raw'] },
        { source: `${RUN}:fit`, target: `${RUN}:dump`, type: 'flow', names: ['model'] },
        { source: `${RUN}:fit`, target: `${RUN}:plot`, type: 'flow', names: ['model'] }
      ]);
    const path = upstream(graph, 'png');
    expect([...path.nodes].sort()).toEqual(
      ['csv', 'png', `${RUN}:fit`, `${RUN}:plot`, `${RUN}:read`].sort()
    );
    expect(path.nodes.has(`${RUN}:dump`)).toBe(false);
    expect(path.nodes.has(RUN)).toBe(false);
    // the run is drawn joined only to the cell nothing else leads to
    const joined = drawnEdges(graph).filter(e => e.type === 'contains').map(e => e.target);
    expect(joined).toEqual([`${RUN}:read`]);
  });

  it('has no upstream for a source dataset but itself', () => {
    const path = upstream(trainGraph(), 'csv');
    expect([...path.nodes]).toEqual(['csv']);
    expect(path.edges.size).toBe(0);
  });

  it('knows the newest run', () => {
    expect(newestRun(trainGraph())).toBe(RUN);
    expect(newestRun({ nodes: [], edges: [] })).toBeNull();
  });
});

describe('diff', () => {
  const diff: IDiff = {
    a: run('a', { duration_s: 4.3, parameters: { C: 0.5 } }),
    b: run('b', { duration_s: 3.9, parameters: { C: 2.0 } }),
    parameters: { changed: { C: { a: 0.5, b: 2.0 } }, added: { seed: 1 } },
    code: [
      {
        cell_id: '2f9df9ef',
        index_a: 2,
        index_b: 2,
        status: 'changed',
        diff: '--- a/cell\n+++ b/cell\n@@ -1 +1 @@\n-clean = raw.dropna()\n+clean = raw.dropna().head(300)\n'
      }
    ],
    inputs: [],
    outputs: [
      { path: '/p/out/model.joblib', status: 'changed', kind: 'model', a: 'blake3:aaaaaaaaaa', b: 'blake3:bbbbbbbbbb' }
    ],
    metrics: { auc: { a: 0.8675, b: 0.8712, delta: 0.0037 }, accuracy: { a: 0.9, b: 0.85, delta: -0.05 } },
    environment: { packages: { changed: { pandas: { a: '2.2.0', b: '2.3.0' } } }, python: { a: '3.11.7', b: '3.12.1' } },
    git: { commit: { a: 'abc', b: 'def' }, diff: '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-1\n+2\n' },
    status: {}
  };

  it('shapes every section, in the CLI order, with empty ones marked same', () => {
    const sections = diffSections(diff);
    expect(sections.map(s => s.key)).toEqual([
      'parameters', 'code', 'inputs', 'outputs', 'metrics', 'environment', 'git', 'status'
    ]);
    const by = Object.fromEntries(sections.map(s => [s.key, s]));
    expect(by.parameters.rows).toEqual([
      { name: 'C', status: 'changed', a: '0.5', b: '2' },
      { name: 'seed', status: 'added', a: '—', b: '1' }
    ]);
    expect(sectionSize(by.inputs)).toBe(0);
    expect(sectionSize(by.status)).toBe(0);
    expect(by.outputs.rows[0]).toMatchObject({ name: 'out/model.joblib', title: '/p/out/model.joblib', a: 'aaaaaaaa', b: 'bbbbbbbb', extra: 'model' });
    expect(by.metrics.rows.map(r => [r.name, r.extra])).toEqual([['accuracy', '-0.05'], ['auc', '+0.0037']]);
    expect(by.environment.rows).toEqual([
      { name: 'packages pandas', status: 'changed', a: '2.2.0', b: '2.3.0' },
      { name: 'python', status: 'changed', a: '3.11.7', b: '3.12.1' }
    ]);
    expect(by.git.rows).toEqual([{ name: 'commit', status: 'changed', a: 'abc', b: 'def' }]);
    expect(by.git.code[0].lines.map(l => l.kind)).toEqual(['file', 'file', 'hunk', 'del', 'add']);
    expect(by.code.code[0].cell).toBe('2f9df9ef');
  });

  it('lists unchanged metrics too, greyed, without counting them as differences', () => {
    const same: IDiff = {
      ...diff,
      a: run('a', { metrics: { auc: 0.8675, accuracy: 0.9, f1: 0.5 } }),
      b: run('b', { metrics: { auc: 0.8712, accuracy: 0.85, f1: 0.5 } })
    };
    const metrics = diffSections(same).find(s => s.key === 'metrics');
    expect(metrics?.rows.map(r => [r.name, r.status])).toEqual([
      ['accuracy', 'changed'],
      ['auc', 'changed'],
      ['f1', 'same']
    ]);
    expect(metrics?.rows[2]).toMatchObject({ a: '0.5', b: '0.5' });
    expect(sectionSize(metrics!)).toBe(2);
  });

  it('lists packages added, removed and changed with their versions', () => {
    const env: IDiff = {
      ...diff,
      environment: {
        packages: {
          changed: { lineageprobe: { a: '1.0', b: '2.0' } },
          added: { polars: '1.2.0' },
          removed: { six: '1.16.0' }
        }
      }
    };
    const section = diffSections(env).find(s => s.key === 'environment');
    expect(section?.rows).toEqual([
      { name: 'packages lineageprobe', status: 'changed', a: '1.0', b: '2.0' },
      { name: 'packages polars', status: 'added', a: '—', b: '1.2.0' },
      { name: 'packages six', status: 'removed', a: '1.16.0', b: '—' }
    ]);
  });

  it('reports status changes with both errors', () => {
    const failed = {
      ...diff,
      status: { a: 'succeeded', b: 'failed', error_a: null, error_b: { name: 'KeyError', value: "'x'" } }
    };
    const status = diffSections(failed).find(s => s.key === 'status');
    expect(status?.rows).toEqual([
      { name: 'status', status: 'changed', a: 'succeeded', b: 'failed' },
      { name: 'error', status: 'changed', a: '—', b: "KeyError: 'x'" }
    ]);
  });

  it('classifies unified diff lines', () => {
    expect(diffLines('@@ -1 +1 @@\n x\n-y\n+z\n').map(l => l.kind)).toEqual(['hunk', 'context', 'del', 'add']);
  });
});
