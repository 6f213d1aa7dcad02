/** The API's shapes for train.ipynb, shared by the unit tests. */
import type { IGraph, IRunSummary } from '../src/tokens';

export const RUN = '01a22c32-64c1-7000-8000-000000000001';

/** The shape GET /lineage/api/graph answers for train.ipynb with its run expanded. */
export function trainGraph(): IGraph {
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

export function run(id: string, extra: Partial<IRunSummary> = {}): IRunSummary {
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
