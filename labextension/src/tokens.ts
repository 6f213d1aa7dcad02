/**
 * Shared ids and the shapes of the REST API's answers (docs/rest.md): the same keys as the
 * CLI's `--json`, so one vocabulary runs from the store to the sidebar.
 */

export const PLUGIN_ID = 'jupyter-lineage:plugin';
export const PANEL_ID = 'jupyter-lineage-panel';
export const GRAPH_WIDGET_ID = 'jupyter-lineage-graph';

export enum CommandIDs {
  open = 'lineage:open',
  refresh = 'lineage:refresh',
  showRuns = 'lineage:show-runs',
  showGraph = 'lineage:show-graph',
  showDiff = 'lineage:show-diff',
  openGraph = 'lineage:open-graph'
}

export type Tab = 'runs' | 'graph' | 'diff' | 'models' | 'pipeline';

export type JSONValue =
  | string
  | number
  | boolean
  | null
  | JSONValue[]
  | { [key: string]: JSONValue };

export interface IRunError {
  name: string;
  value: string;
  cell_id?: string | null;
}

export interface IRunSummary {
  id: string;
  /** A run's own name (issue 4 adds them); titles fall back to id and time without it. */
  name?: string | null;
  kind: string;
  notebook: string | null;
  status: string;
  started: string;
  ended: string | null;
  duration_s: number | null;
  parent_id: string | null;
  user?: string | null;
  host?: string | null;
  error: IRunError | null;
  parameters: Record<string, JSONValue>;
  metrics: Record<string, number>;
  executions: number;
  errors: number;
  /** When the run's newest cell started (an open interactive session shows it as active). */
  last_cell?: string | null;
}

export interface IMetricStep {
  step: number;
  value: number;
}

/** `GET runs/ID`: a run in full; the sidebar reads only its metric history. */
export interface IRunDetail extends Omit<IRunSummary, 'executions'> {
  metric_history: Record<string, IMetricStep[]>;
}

/** `GET runs/ID/env`: the run's packages as `jupyter lineage env ID --format F` prints them. */
export interface IEnvFile {
  run: string;
  format: string;
  text: string;
}

/** `GET gather?artifact=ID`: the minimal notebook that rebuilds one file version. */
export interface IGathered {
  run: string;
  cells: { execution: string; execution_count: number | null; source: string }[];
  notebook_json: Record<string, unknown>;
  name: string;
}

export interface IArtifactNode {
  id: string;
  type: 'artifact';
  path: string;
  name: string;
  kind: string;
  hash: string | null;
  stale: boolean;
  /** When stale: the command that makes it again (reproduce, or run the notebook as a pipeline). */
  refresh?: string | null;
}

export interface IRunNode {
  id: string;
  type: 'run';
  kind: string;
  status: string;
  started: string;
  notebook: string | null;
  parameters: Record<string, JSONValue>;
  label: string;
  name?: string | null;
}

export interface IExecutionNode {
  id: string;
  type: 'execution';
  run_id: string;
  cell_id: string | null;
  execution_count: number | null;
  source: string;
  error: string | null;
  executions: number;
  /** The names the cell defined (dataflow lineage, a later issue); labels show them when given. */
  defines?: string[];
  /** It used variables from a cell since re-run with changed code (`status --cells`). */
  stale?: boolean;
}

export type GraphNode = IArtifactNode | IRunNode | IExecutionNode;

export interface IGraphEdge {
  source: string;
  target: string;
  type: 'read' | 'wrote' | 'contains' | 'next' | 'flow';
  /** `flow`: the variables one cell used from the other. */
  names?: string[];
}

export interface IGraph {
  nodes: GraphNode[];
  edges: IGraphEdge[];
  /** Of the runs the graph started from: how many are drawn, how many there are. */
  shown?: number;
  total?: number;
  /** The server cut the graph at its bounds (200 runs, 5,000 nodes). */
  truncated?: boolean;
}

/**
 * What the graph shows: the newest run's lineage (the default), one run's, the upstream of
 * one artifact, or all runs of the notebook (newest `limit`).
 */
export type Focus =
  | { kind: 'latest' }
  | { kind: 'run'; id: string }
  | { kind: 'artifact'; id: string; run: string | null }
  | { kind: 'all' };

export interface ISort {
  key: string;
  dir: 'asc' | 'desc';
}

export interface IValueChange {
  a: JSONValue;
  b: JSONValue;
}

export interface IFileChange {
  path: string;
  status: 'changed' | 'added' | 'removed';
  kind?: string;
  a?: string | null;
  b?: string | null;
}

export interface ICodeChange {
  cell_id: string | null;
  index_a: number | null;
  index_b: number | null;
  status: 'changed' | 'added' | 'removed';
  diff: string;
}

export interface IDiff {
  a: IRunSummary;
  b: IRunSummary;
  parameters: {
    changed?: Record<string, IValueChange>;
    added?: Record<string, JSONValue>;
    removed?: Record<string, JSONValue>;
  };
  code: ICodeChange[];
  inputs: IFileChange[];
  outputs: IFileChange[];
  metrics: Record<string, { a: number | null; b: number | null; delta: number | null }>;
  environment: Record<string, JSONValue>;
  git: Record<string, JSONValue>;
  status: Record<string, JSONValue>;
}

export interface IApiError {
  code: string;
  message: string;
}

/** `GET models`: one model version with the run that wrote it (`jupyter lineage models`). */
export interface IModelVersion {
  path: string;
  hash: string;
  artifact: string;
  size: number | null;
  written: string;
  run: {
    id: string;
    kind: string;
    notebook: string | null;
    status: string;
    started: string;
    ended: string | null;
  };
  execution: { id: string; seq: number };
  parameters: Record<string, JSONValue>;
  metrics: Record<string, number>;
  inputs: { path: string; hash: string }[];
  environment: { python: string | null; platform: string | null; packages: number };
  tags: string[];
  /** current (on disk now), replaced (the file is another version now), missing, remote */
  state: string;
  stale: boolean;
  changed_inputs: string[];
}

/** `GET models/ARTIFACT`: one version in full (`jupyter lineage models show`). */
export interface IModelDetail extends IModelVersion {
  kind: string;
  read_by: string[];
  versions: { hash: string; written: string; run: string; tags: string[] }[];
}

/** Why a pipeline stage is stale (`jupyter lineage dag`): what, and a line saying it. */
export interface IStageReason {
  what: string;
  text: string;
}

/** `GET pipeline`: one stage (a notebook or script and the run that stands for it). */
export interface IStage {
  path: string;
  name: string;
  kind: string;
  run: string;
  run_kind: string;
  cached_from: string | null;
  started: string;
  parameters: Record<string, JSONValue>;
  deps: { path: string; name: string; hash: string; stage: string | null }[];
  outs: { path: string; name: string; hash: string; stages: string[] }[];
  upstream: string[];
  downstream: string[];
  stale: boolean;
  reasons: IStageReason[];
}

/** `GET pipeline`: the pipeline inferred across notebooks (`jupyter lineage dag --json`). */
export interface IPipeline {
  root: string;
  stages: IStage[];
  edges: { source: string; target: string; files: string[] }[];
  stale: string[];
  ignored: { path: string; reason: string }[];
}
