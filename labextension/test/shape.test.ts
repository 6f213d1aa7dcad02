import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';

import {
  defaultPair,
  diffLines,
  diffSections,
  formatDuration,
  formatValue,
  formatWhen,
  newestRun,
  nodeDetails,
  nodeLabel,
  relativePath,
  runsSignature,
  sectionSize,
  shortHash,
  toElk,
  upstream
} from '../src/shape';
import type { IDiff, IGraph, IRunSummary } from '../src/tokens';

const RUN = '01a22c32-64c1-7000-8000-000000000001';

/** The shape GET /lineage/api/graph answers for train.ipynb with its run expanded. */
function trainGraph(): IGraph {
  const cell = (id: string, n: number, source: string) => ({
    id: `${RUN}:${id}`,
    type: 'execution' as const,
    run_id: RUN,
    cell_id: id,
    execution_count: n,
    source,
    error: null,
    executions: 1
  });
  const file = (id: string, name: string, kind: string, stale = false) => ({
    id,
    type: 'artifact' as const,
    path: `/p/${name}`,
    name,
    kind,
    hash: `blake3:${id}${'0'.repeat(20)}`,
    stale
  });
  return {
    nodes: [
      file('csv', 'customers.csv', 'dataset'),
      file('model', 'model.joblib', 'model', true),
      file('png', 'roc.png', 'figure'),
      {
        id: RUN,
        type: 'run',
        kind: 'interactive',
        status: 'running',
        started: '2026-11-30T11:00:00+00:00',
        notebook: '/p/train.ipynb',
        parameters: {},
        label: 'train.ipynb · 01a22c32-64c1'
      },
      cell('read', 2, '\n\nraw = pd.read_csv(data_path)'),
      cell('fit', 3, 'model.fit(X, y)'),
      cell('dump', 4, 'joblib.dump(model, "out/model.joblib")'),
      cell('plot', 5, 'fig.savefig("out/roc.png")')
    ],
    edges: [
      { source: 'csv', target: `${RUN}:read`, type: 'read' },
      { source: `${RUN}:read`, target: `${RUN}:fit`, type: 'next' },
      { source: `${RUN}:fit`, target: `${RUN}:dump`, type: 'next' },
      { source: `${RUN}:dump`, target: `${RUN}:plot`, type: 'next' },
      { source: `${RUN}:dump`, target: 'model', type: 'wrote' },
      { source: `${RUN}:plot`, target: 'png', type: 'wrote' },
      { source: RUN, target: `${RUN}:read`, type: 'contains' },
      { source: RUN, target: `${RUN}:fit`, type: 'contains' },
      { source: RUN, target: `${RUN}:dump`, type: 'contains' },
      { source: RUN, target: `${RUN}:plot`, type: 'contains' }
    ]
  };
}

function run(id: string, extra: Partial<IRunSummary> = {}): IRunSummary {
  return {
    id,
    kind: 'papermill',
    notebook: '/p/train.ipynb',
    status: 'succeeded',
    started: '2026-11-30T11:00:00+00:00',
    ended: null,
    duration_s: 2.5,
    parent_id: null,
    error: null,
    parameters: {},
    metrics: {},
    executions: 8,
    errors: 0,
    ...extra
  };
}

describe('labels and formats', () => {
  it('labels nodes by file name, run label and first non-empty line', () => {
    const g = trainGraph();
    expect(nodeLabel(g.nodes[0])).toBe('customers.csv');
    expect(nodeLabel(g.nodes[3])).toBe('train.ipynb · 01a22c32-64c1');
    expect(nodeLabel(g.nodes[4])).toBe('[2] raw = pd.read_csv(data_path)');
    expect(nodeLabel(g.nodes[6])).toBe('[4] joblib.dump(model, "out/model.j…');
    expect(nodeLabel(g.nodes[6]).length).toBe(36);
  });

  it('keeps markup as plain text', () => {
    const node = { ...trainGraph().nodes[4], source: '<img src=x onerror=alert(1)>' };
    expect(nodeLabel(node as any)).toBe('[2] <img src=x onerror=alert(1)>');
  });

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

  it('describes nodes for the details pane', () => {
    const details = Object.fromEntries(nodeDetails(trainGraph().nodes[1]));
    expect(details.Path).toBe('/p/model.joblib');
    expect(details.State).toMatch(/^stale/);
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
  it('builds ELK input with every node sized and dangling edges dropped', () => {
    const g = trainGraph();
    g.edges.push({ source: 'csv', target: 'gone', type: 'read' });
    const elk = toElk(g);
    expect(elk.children.map(c => c.id)).toEqual(g.nodes.map(n => n.id));
    expect(elk.edges).toHaveLength(10);
    for (const child of elk.children) {
      expect(child.width).toBeGreaterThanOrEqual(60);
      expect(child.height).toBe(28);
    }
  });

  it('lays out with ELK: every node placed, data above the cells above the model', async () => {
    const result = await new ELK().layout(toElk(trainGraph()) as any);
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
