import { describe, expect, it } from 'vitest';

import {
  artifactVersion,
  cellAction,
  describeAction,
  keyLine,
  keyMetric,
  labelContext,
  matches,
  nodeDetails,
  nodeLabel,
  nodeLines,
  outline,
  previousRun,
  runFacts,
  runState,
  runTitle,
  errorAdvice,
  staleHint,
  writerCell,
  writerOf
} from '../src/labels';
import type { IExecutionNode, IGraph } from '../src/tokens';
import { RUN, run, trainGraph } from './fixtures';

const NOW = new Date('2026-11-30T11:05:00+00:00');
const OLD = '01a22c00-0000-7000-8000-000000000000';

function node(g: IGraph, id: string) {
  const found = g.nodes.find(n => n.id === id);
  if (!found) {
    throw new Error(`no node ${id}`);
  }
  return found;
}

/** trainGraph plus an older run that wrote an earlier version of the model. */
function twoVersions(): IGraph {
  const g = trainGraph();
  g.nodes.push(
    { id: 'model-old', type: 'artifact', path: '/p/model.joblib', name: 'model.joblib', kind: 'model', hash: 'blake3:0123456789ab', stale: false },
    { id: OLD, type: 'run', kind: 'papermill', status: 'succeeded', started: '2026-11-30T10:00:00+00:00', notebook: '/p/train.ipynb', parameters: { C: 0.5 }, label: '' }
  );
  g.edges.push(
    { source: 'csv', target: OLD, type: 'read' },
    { source: OLD, target: 'model-old', type: 'wrote' }
  );
  return g;
}

describe('run titles', () => {
  it('names a run by its short id and when, or by its name once it has one', () => {
    const r = run(RUN, { started: '2026-11-30T11:00:00+00:00' });
    expect(runTitle(r, NOW)).toBe('01a22c32-64c1 · 5 min ago');
    expect(runTitle({ ...r, name: 'brave-otter-07' }, NOW)).toBe('brave-otter-07');
  });

  it('shows parameters and the key metric (the preferred one when the run has it)', () => {
    const r = run('x', { parameters: { C: 0.5, seed: 1 }, metrics: { auc: 0.8675, accuracy: 0.9 } });
    expect(keyMetric(r.metrics)).toEqual(['accuracy', 0.9]);
    expect(keyMetric(r.metrics, 'auc')).toEqual(['auc', 0.8675]);
    expect(keyMetric({}, 'auc')).toBeNull();
    expect(runFacts(r, 'auc')).toBe('C=0.5, seed=1 · auc 0.8675');
    expect(runFacts(run('y'))).toBe('');
  });
});

describe('node labels', () => {
  it('labels a cell by what it did, with the line that did it', () => {
    const g = trainGraph();
    const ctx = labelContext(g, null, NOW);
    const read = node(g, `${RUN}:read`) as IExecutionNode;
    expect(cellAction(ctx, read)).toEqual({ reads: ['customers.csv'], writes: [], defines: [] });
    expect(nodeLines(ctx, read)).toEqual(['[2] reads customers.csv', 'raw = pd.read_csv(data_path)']);
    expect(nodeLines(ctx, node(g, `${RUN}:dump`))).toEqual([
      '[4] writes model.joblib',
      'joblib.dump(model, "out/model.joblib")'
    ]);
  });

  it('falls back to the first line of a cell that touched no file', () => {
    const ctx = labelContext(trainGraph());
    expect(nodeLines(ctx, node(ctx.graph, `${RUN}:fit`))).toEqual(['[3] model.fit(X, y)', null]);
  });

  it('adds the names a cell defines when the API gives them (dataflow lineage)', () => {
    const g = trainGraph();
    const read = node(g, `${RUN}:read`) as IExecutionNode;
    read.defines = ['raw', 'X', 'y', 'extra'];
    const action = cellAction(labelContext(g), read);
    expect(describeAction(action)).toBe('reads customers.csv · defines raw, X, y +1');
  });

  it('keeps markup as plain text', () => {
    const g = trainGraph();
    (node(g, `${RUN}:fit`) as IExecutionNode).source = '<img src=x onerror=alert(1)>';
    expect(nodeLines(labelContext(g), node(g, `${RUN}:fit`))[0]).toBe('[3] <img src=x onerror=alert(1)>');
  });

  it('picks the line naming the file, else an I/O call, never an import or a comment', () => {
    expect(keyLine('import json\n# save it\nout.mkdir()\njoblib.dump(m, out / "model.joblib")', ['model.joblib'])).toBe('joblib.dump(m, out / "model.joblib")');
    expect(keyLine('import pandas as pd\nraw = pd.read_csv(path)', ['customers.csv'])).toBe('raw = pd.read_csv(path)');
    expect(keyLine('from x import y\nz = 1', [])).toBe('z = 1');
  });

  it('labels an artifact by its version: short hash, the run that wrote it, when', () => {
    const g = twoVersions();
    const ctx = labelContext(g, null, NOW);
    expect(writerOf(ctx, 'model')?.id).toBe(RUN);
    expect(writerCell(ctx, 'model')?.id).toBe(`${RUN}:dump`);
    expect(artifactVersion(ctx, node(g, 'model') as any)).toBe('model000 · 01a22c32-64c1 · 5 min ago');
    expect(nodeLines(ctx, node(g, 'model-old'))).toEqual(['model.joblib', '01234567 · 01a22c00-0000 · 1 h ago']);
    expect(nodeLines(ctx, node(g, 'csv'))[1]).toBe('csv00000'); // an input: no run wrote it
    expect(nodeLabel(ctx, node(g, 'csv'))).toBe('customers.csv · csv00000');
  });

  it('labels a run by title, status, parameters and key metric', () => {
    const g = twoVersions();
    const ctx = labelContext(g, [run(OLD, { metrics: { auc: 0.85 } })], NOW);
    expect(nodeLines(ctx, node(g, OLD))).toEqual(['01a22c00-0000 · 1 h ago', 'succeeded · C=0.5 · auc 0.85']);
  });

  it('finds nodes by name, path, code or run id, case-insensitively', () => {
    const g = trainGraph();
    const ctx = labelContext(g);
    const found = (q: string) => g.nodes.filter(n => matches(ctx, n, q)).map(n => n.id);
    expect(found('MODEL.job')).toEqual(['model', `${RUN}:dump`]);
    expect(found('savefig')).toEqual([`${RUN}:plot`]);
    expect(found('01a22c32-64c1')).toContain(RUN);
    expect(found('  ')).toHaveLength(g.nodes.length);
  });
});

describe('details and actions', () => {
  it('says which run wrote an artifact, and what a cell read and wrote', () => {
    const ctx = labelContext(trainGraph(), null, NOW);
    const model = Object.fromEntries(nodeDetails(ctx, node(ctx.graph, 'model')));
    expect(model['Written by']).toBe('01a22c32-64c1 · 5 min ago');
    expect(model.State).toMatch(/^stale/);
    const csv = Object.fromEntries(nodeDetails(ctx, node(ctx.graph, 'csv')));
    expect(csv['Written by']).toMatch(/an input/);
    const dump = Object.fromEntries(nodeDetails(ctx, node(ctx.graph, `${RUN}:dump`)));
    expect([dump.Reads, dump.Writes]).toEqual(['—', 'model.joblib']);
  });

  it('offers the command that makes a stale output again', () => {
    const g = trainGraph();
    const stale = node(g, 'model');
    if (stale.type !== 'artifact') {
      throw new Error('the fixture changed');
    }
    stale.refresh = 'jupyter lineage run train.ipynb';
    const ctx = labelContext(g, null, NOW);
    expect(Object.fromEntries(nodeDetails(ctx, stale)).Refresh).toBe('jupyter lineage run train.ipynb');
    expect(staleHint(stale)).toBe(
      'An input it was made from changed since. Refresh: jupyter lineage run train.ipynb'
    );
    expect(Object.fromEntries(nodeDetails(ctx, node(g, 'csv'))).Refresh).toBeUndefined();
  });

  it('diffs an artifact against the run that wrote its previous version', () => {
    const g = twoVersions();
    const ctx = labelContext(g);
    const runs = [run(RUN), run('middle'), run(OLD)];
    expect(previousRun(ctx, node(g, 'model'), runs)).toBe(OLD);
    // a run: the one before it in the notebook's runs
    expect(previousRun(ctx, node(g, RUN), runs)).toBe('middle');
    expect(previousRun(ctx, node(g, OLD), runs)).toBeNull();
    expect(previousRun(ctx, node(g, 'csv'), runs)).toBeNull(); // nobody wrote it
  });
});

describe('outline', () => {
  it('lists a run\'s inputs, cells in order, outputs and the runs it was made from', () => {
    const g = twoVersions();
    // the old run wrote the CSV the new run read
    g.edges = g.edges.filter(e => !(e.source === 'csv' && e.target === OLD));
    g.edges.push({ source: OLD, target: 'csv', type: 'wrote' });
    const o = outline(labelContext(g), RUN);
    expect(o.run?.id).toBe(RUN);
    expect(o.inputs.map(a => a.id)).toEqual(['csv']);
    expect(o.cells.map(c => c.cell_id)).toEqual(['read', 'fit', 'dump', 'plot']);
    expect(o.outputs.map(a => a.id)).toEqual(['model', 'png']);
    expect(o.upstream.map(u => [u.run.id, u.wrote])).toEqual([[OLD, ['customers.csv']]]);
    expect(o.others).toBe(0);
  });

  it('counts the runs it does not list', () => {
    const o = outline(labelContext(twoVersions()), RUN);
    expect(o.upstream).toEqual([]);
    expect(o.others).toBe(1);
  });
});

describe('error advice', () => {
  it('names the setting to change, never a CLI flag or moving a file', () => {
    for (const code of ['not_a_store', 'outside_root', 'store_error', 'store_unwritable']) {
      const text = errorAdvice({ code, message: 'x is not a readable lineage database. Move it aside, or pass --db' });
      expect(text).toContain('Settings → Lineage → Store path');
      expect(text).not.toMatch(/--db|[Mm]ove it/);
    }
    expect(errorAdvice({ code: 'run_not_found', message: 'No run matches' })).toBe('No run matches');
  });
});

describe('run state', () => {
  it('shows an open interactive session as active with its last cell, others as they are', () => {
    const now = new Date('2026-12-05T12:00:00Z');
    const last = '2026-12-05T11:57:00Z';
    expect(runState({ status: 'running', kind: 'interactive', last_cell: last }, now)).toBe(
      'active · last cell 3 min ago'
    );
    expect(runState({ status: 'running', kind: 'papermill', last_cell: last }, now)).toBe('running');
    expect(runState({ status: 'interrupted', kind: 'interactive', last_cell: last }, now)).toBe(
      'interrupted'
    );
  });
});
