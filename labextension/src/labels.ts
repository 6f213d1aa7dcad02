/**
 * What the sidebar calls things: a run by its title, a cell by what it did, an artifact by its
 * version. Pure functions over the API's shapes (no JupyterLab imports: unit-tested in Node).
 */
import { formatMapping, formatValue, formatWhen, shortHash, shortId, truncate } from './shape';
import type {
  GraphNode,
  IArtifactNode,
  IExecutionNode,
  IGraph,
  IGraphEdge,
  IRunNode,
  IRunSummary,
  JSONValue
} from './tokens';

export const MAX_LABEL = 40;

/** The little a title needs; run summaries and graph run nodes both have it. */
export interface IRunLike {
  id: string;
  started: string;
  name?: string | null;
}

/**
 * A run's title wherever a run is named (table, pickers, graph, details): its name once runs
 * have names, until then its short id and when it started. The one place to change.
 */
export function runTitle(run: IRunLike, now?: Date): string {
  return run.name ? run.name : `${shortId(run.id)} · ${formatWhen(run.started, now)}`;
}

/**
 * A run's state as a person reads it: an interactive session whose kernel still lives is
 * `active · last cell 3 min ago`, not an endless `running`.
 */
export function runState(
  run: { status: string; kind: string; last_cell?: string | null },
  now?: Date
): string {
  if (run.status === 'running' && run.kind === 'interactive') {
    return run.last_cell ? `active · last cell ${formatWhen(run.last_cell, now)}` : 'active';
  }
  return run.status;
}

/** The metric to show first: the one asked for when the run has it, else the first by name. */
export function keyMetric(
  metrics: Record<string, number>,
  preferred?: string | null
): [string, number] | null {
  if (preferred && preferred in metrics) {
    return [preferred, metrics[preferred]];
  }
  const names = Object.keys(metrics).sort();
  return names.length ? [names[0], metrics[names[0]]] : null;
}

/** Parameters and the key metric in a line: `C=0.5 · auc 0.8675`. */
export function runFacts(
  run: { parameters: Record<string, JSONValue>; metrics?: Record<string, number> },
  preferred?: string | null
): string {
  const parts: string[] = [];
  const params = formatMapping(run.parameters);
  if (params) {
    parts.push(params);
  }
  const metric = run.metrics ? keyMetric(run.metrics, preferred) : null;
  if (metric) {
    parts.push(`${metric[0]} ${formatValue(metric[1])}`);
  }
  return parts.join(' · ');
}

/** Edges around each node, looked up once per graph. */
export interface ILabelContext {
  graph: IGraph;
  byId: Map<string, GraphNode>;
  incoming: Map<string, IGraph['edges']>;
  outgoing: Map<string, IGraph['edges']>;
  runs: Map<string, IRunSummary>;
  now?: Date;
}

export function labelContext(
  graph: IGraph,
  runs: IRunSummary[] | null = null,
  now?: Date
): ILabelContext {
  const incoming = new Map<string, IGraph['edges']>();
  const outgoing = new Map<string, IGraph['edges']>();
  const add = (map: Map<string, IGraph['edges']>, key: string, edge: IGraphEdge): void => {
    const list = map.get(key);
    if (list) {
      list.push(edge);
    } else {
      map.set(key, [edge]);
    }
  };
  for (const edge of graph.edges) {
    add(incoming, edge.target, edge);
    add(outgoing, edge.source, edge);
  }
  return {
    graph,
    byId: new Map(graph.nodes.map(n => [n.id, n])),
    incoming,
    outgoing,
    runs: new Map((runs ?? []).map(r => [r.id, r])),
    now
  };
}

export interface ICellAction {
  reads: string[];
  writes: string[];
  defines: string[];
}

function names(ctx: ILabelContext, ids: string[]): string[] {
  const out: string[] = [];
  for (const id of ids) {
    const node = ctx.byId.get(id);
    if (node?.type === 'artifact' && !out.includes(node.name)) {
      out.push(node.name);
    }
  }
  return out;
}

/** What a cell did: the files it read and wrote, the names it defined (when known). */
export function cellAction(ctx: ILabelContext, node: IExecutionNode): ICellAction {
  const reads = (ctx.incoming.get(node.id) ?? []).filter(e => e.type === 'read');
  const writes = (ctx.outgoing.get(node.id) ?? []).filter(e => e.type === 'wrote');
  return {
    reads: names(ctx, reads.map(e => e.source)),
    writes: names(ctx, writes.map(e => e.target)),
    defines: node.defines ?? []
  };
}

function list(items: string[], max = 2): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} +${items.length - max}` : shown;
}

/** `reads customers.csv · writes model.joblib · defines clean, X` (empty: it did none). */
export function describeAction(action: ICellAction): string {
  const parts: string[] = [];
  if (action.reads.length) {
    parts.push(`reads ${list(action.reads)}`);
  }
  if (action.writes.length) {
    parts.push(`writes ${list(action.writes)}`);
  }
  if (action.defines.length) {
    parts.push(`defines ${list(action.defines, 3)}`);
  }
  return parts.join(' · ');
}

export function firstLine(source: string): string {
  return (source.split('\n').find(line => line.trim() !== '') ?? '(empty cell)').trim();
}

const IO_CALL = /\b(read|write|dump|save|load|open|to_[a-z]+|savefig|get|post|download|upload)\w*\s*\(/;

/**
 * The line of a cell that shows what it did: the first one naming a file it read or wrote,
 * else the first I/O call, else its first line (never a comment or an import).
 */
export function keyLine(source: string, files: string[]): string {
  const lines = source
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'));
  const stems = files.map(name => name.replace(/\.[^.]*$/, '')).filter(stem => stem.length > 1);
  return (
    lines.find(line => stems.some(stem => line.includes(stem))) ??
    lines.find(line => IO_CALL.test(line) && !/^(import|from)\s/.test(line)) ??
    lines.find(line => !/^(import|from)\s/.test(line)) ??
    firstLine(source)
  );
}

function prompt(node: IExecutionNode): string {
  return `[${node.execution_count === null ? ' ' : String(node.execution_count)}]`;
}

/** The newest run that wrote an artifact (a run node, or an expanded run's cell). */
export function writerOf(ctx: ILabelContext, artifactId: string): IRunNode | null {
  let best: IRunNode | null = null;
  for (const edge of ctx.incoming.get(artifactId) ?? []) {
    if (edge.type !== 'wrote') {
      continue;
    }
    const source = ctx.byId.get(edge.source);
    const runId = source?.type === 'execution' ? source.run_id : source?.id;
    const run = runId ? ctx.byId.get(runId) : undefined;
    if (run?.type === 'run' && (!best || run.started > best.started)) {
      best = run;
    }
  }
  return best;
}

/** The expanded cell that wrote an artifact, if its run is drawn with its cells. */
export function writerCell(ctx: ILabelContext, artifactId: string): IExecutionNode | null {
  for (const edge of ctx.incoming.get(artifactId) ?? []) {
    const source = ctx.byId.get(edge.source);
    if (edge.type === 'wrote' && source?.type === 'execution') {
      return source;
    }
  }
  return null;
}

/** An artifact's version: short hash, the run that wrote it and when. */
export function artifactVersion(ctx: ILabelContext, node: IArtifactNode): string {
  const hash = node.hash ? shortHash(node.hash) : 'no hash';
  const writer = writerOf(ctx, node.id);
  return writer ? `${hash} · ${runTitle(writer, ctx.now)}` : hash;
}

/**
 * A node's lines in the drawing: what it is, then what distinguishes it — a cell by what it
 * did (its first line of code when it touched nothing), an artifact by its version, a run by
 * its title, status, parameters and key metric.
 */
export function nodeLines(ctx: ILabelContext, node: GraphNode): [string, string | null] {
  switch (node.type) {
    case 'artifact':
      return [truncate(node.name, MAX_LABEL), truncate(artifactVersion(ctx, node), MAX_LABEL)];
    case 'run': {
      const summary = ctx.runs.get(node.id);
      const facts = runFacts({ parameters: node.parameters, metrics: summary?.metrics });
      return [
        truncate(runTitle(node, ctx.now), MAX_LABEL),
        truncate(facts ? `${node.status} · ${facts}` : node.status, MAX_LABEL)
      ];
    }
    case 'execution': {
      const action = cellAction(ctx, node);
      const did = describeAction(action);
      return did
        ? [
            truncate(`${prompt(node)} ${did}`, MAX_LABEL),
            truncate(keyLine(node.source, [...action.reads, ...action.writes]), MAX_LABEL)
          ]
        : [truncate(`${prompt(node)} ${firstLine(node.source)}`, MAX_LABEL), null];
    }
  }
}

/** One line naming a node (accessible names, tooltips, the outline). */
export function nodeLabel(ctx: ILabelContext, node: GraphNode): string {
  const [first, second] = nodeLines(ctx, node);
  return second && node.type !== 'execution' ? `${first} · ${second}` : first;
}

/** Does a node match the search: its name, path, label, code or run id, case-insensitive. */
export function matches(ctx: ILabelContext, node: GraphNode, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) {
    return true;
  }
  const hay: string[] = nodeLines(ctx, node).filter((x): x is string => !!x);
  switch (node.type) {
    case 'artifact':
      hay.push(node.path, node.kind, node.hash ?? '');
      break;
    case 'run':
      hay.push(node.id, node.kind, node.status);
      break;
    case 'execution':
      hay.push(node.source, node.cell_id ?? '');
      break;
  }
  return hay.some(text => text.toLowerCase().includes(q));
}

/** What a stale badge says when hovered: why, and what makes the node again. */
export function staleHint(node: GraphNode): string {
  if (node.type === 'execution') {
    return 'It used variables from a cell re-run since with changed code: re-run it';
  }
  const why = 'An input it was made from changed since';
  return node.type === 'artifact' && node.refresh ? `${why}. Refresh: ${node.refresh}` : why;
}

/** Label/value rows for the details pane; plain strings, rendered as text. */
export function nodeDetails(ctx: ILabelContext, node: GraphNode): [string, string][] {
  switch (node.type) {
    case 'artifact': {
      const writer = writerOf(ctx, node.id);
      return [
        ['Path', node.path],
        ['Kind', node.kind],
        ['Version', node.hash ?? '—'],
        ['Written by', writer ? runTitle(writer, ctx.now) : 'no run in this graph (an input)'],
        ['State', node.stale ? 'stale: an upstream input changed since it was made' : 'up to date'],
        ...(node.stale && node.refresh ? [['Refresh', node.refresh] as [string, string]] : [])
      ];
    }
    case 'run':
      return [
        ['Run', node.id],
        ['Kind', node.kind],
        ['Status', node.status],
        ['Started', node.started],
        ['Notebook', node.notebook ?? '—'],
        ['Parameters', formatMapping(node.parameters) || '—']
      ];
    case 'execution': {
      const action = cellAction(ctx, node);
      return [
        ['Cell', node.cell_id ?? '—'],
        ['Execution count', node.execution_count === null ? '—' : String(node.execution_count)],
        ['Reads', action.reads.join(', ') || '—'],
        ['Writes', action.writes.join(', ') || '—'],
        ...(action.defines.length ? [['Defines', action.defines.join(', ')] as [string, string]] : []),
        ...usesRow(ctx, node),
        ['Times run', String(node.executions)],
        ['Error', node.error ?? '—'],
        ...(node.stale
          ? [['State', 'stale: it used variables from a cell re-run since with changed code'] as [string, string]]
          : []),
        ['Source', node.source]
      ];
    }
  }
}

/** `Uses: text ← [2], size ← [4]`: the variables a cell took from other cells (dataflow). */
function usesRow(ctx: ILabelContext, node: IExecutionNode): [string, string][] {
  const uses = ctx.graph.edges
    .filter(e => e.type === 'flow' && e.target === node.id)
    .map(e => {
      const from = ctx.graph.nodes.find(n => n.id === e.source);
      const count = from?.type === 'execution' && from.execution_count !== null ? ` ← [${from.execution_count}]` : '';
      return `${(e.names ?? []).join(', ')}${count}`;
    });
  return uses.length ? [['Uses', uses.join('; ')]] : [];
}

/** The run a node belongs to: itself, its cell's run, or the artifact's writer. */
export function runOf(ctx: ILabelContext, node: GraphNode): IRunNode | null {
  if (node.type === 'run') {
    return node;
  }
  if (node.type === 'execution') {
    const run = ctx.byId.get(node.run_id);
    return run?.type === 'run' ? run : null;
  }
  return writerOf(ctx, node.id);
}

/**
 * The run to compare a node's run with: for an artifact, the writer of its previous version
 * (same path, written earlier) when the graph has one; else the notebook's run before it.
 */
export function previousRun(
  ctx: ILabelContext,
  node: GraphNode,
  runs: IRunSummary[]
): string | null {
  const run = runOf(ctx, node);
  if (!run) {
    return null;
  }
  if (node.type === 'artifact') {
    let best: IRunNode | null = null;
    for (const other of ctx.graph.nodes) {
      if (other.type !== 'artifact' || other.path !== node.path || other.id === node.id) {
        continue;
      }
      const writer = writerOf(ctx, other.id);
      if (writer && writer.started < run.started && (!best || writer.started > best.started)) {
        best = writer;
      }
    }
    if (best) {
      return best.id;
    }
  }
  const index = runs.findIndex(r => r.id === run.id);
  return index >= 0 && index + 1 < runs.length ? runs[index + 1].id : null;
}

/** The metrics to show for a run: from the loaded summaries (null when not loaded). */
export function metricsOf(ctx: ILabelContext, runId: string): Record<string, number> | null {
  return ctx.runs.get(runId)?.metrics ?? null;
}

export function formatMetrics(metrics: Record<string, number>): string {
  return Object.keys(metrics)
    .sort()
    .map(name => `${name} ${formatValue(metrics[name])}`)
    .join(' · ');
}

/** The sidebar's compact view of one run's lineage: what went in, its cells, what came out. */
export interface IOutline {
  run: IRunNode | null;
  inputs: IArtifactNode[];
  cells: IExecutionNode[];
  outputs: IArtifactNode[];
  /** Other runs in the graph that wrote something the run read. */
  upstream: { run: IRunNode; wrote: string[] }[];
  /** Runs in the graph not shown above (the all-runs view). */
  others: number;
}

export function outline(ctx: ILabelContext, runId: string | null): IOutline {
  const run = runId ? ctx.byId.get(runId) : undefined;
  const focus = run?.type === 'run' ? run : null;
  const cells = ctx.graph.nodes.filter(
    (n): n is IExecutionNode => n.type === 'execution' && n.run_id === focus?.id
  );
  const own = new Set<string>([...(focus ? [focus.id] : []), ...cells.map(c => c.id)]);
  const read = new Set<string>();
  const wrote = new Set<string>();
  for (const edge of ctx.graph.edges) {
    if (edge.type === 'read' && own.has(edge.target)) {
      read.add(edge.source);
    } else if (edge.type === 'wrote' && own.has(edge.source)) {
      wrote.add(edge.target);
    }
  }
  const artifacts = ctx.graph.nodes.filter((n): n is IArtifactNode => n.type === 'artifact');
  const inputs = focus
    ? artifacts.filter(a => read.has(a.id) && !wrote.has(a.id))
    : artifacts.filter(a => !wrote.has(a.id));
  const outputs = artifacts.filter(a => wrote.has(a.id));
  const upstream: IOutline['upstream'] = [];
  let others = 0;
  for (const node of ctx.graph.nodes) {
    if (node.type !== 'run' || node.id === focus?.id) {
      continue;
    }
    const made = inputs.filter(a => writerOf(ctx, a.id)?.id === node.id).map(a => a.name);
    if (made.length) {
      upstream.push({ run: node, wrote: made });
    } else {
      others += 1;
    }
  }
  return { run: focus, inputs, cells, outputs, upstream, others };
}

/**
 * What an error state in the panel tells the user to do, in the panel's own terms (the setting
 * to change), never the CLI's flags nor a suggestion to move a file of theirs. Codes are the
 * REST API's (docs/rest.md); an unknown one keeps the server's message.
 */
export function errorAdvice(error: { code: string; message: string }): string {
  const setting = 'Settings → Lineage → Store path';
  switch (error.code) {
    case 'not_a_store':
      return `The store the panel reads is not a lineage database. Point ${setting} at one (e.g. .lineage/lineage.db), or clear it to use the notebook's own store.`;
    case 'outside_root':
      return `That store lies outside the folder JupyterLab serves. Set ${setting} to a store under it, or start JupyterLab in the project's folder.`;
    case 'schema_too_new':
      return 'The store was written by a newer jupyter-lineage: upgrade it in this environment and restart JupyterLab. The store was left untouched.';
    case 'store_busy':
    case 'busy':
      return 'The store is busy with another writer; the panel tries again at its next refresh.';
    case 'timeout':
      return 'The answer took too long. Show fewer runs, or pick one run or file to draw.';
    case 'store_unwritable':
    case 'store_error':
      return `The store could not be read. Check ${setting}, or clear it to use the notebook's own store.`;
    default:
      return error.message;
  }
}
