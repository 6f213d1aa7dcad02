/**
 * Pure data shaping for the sidebar: formats, times, the ELK input, upstream paths and diff
 * sections (labels are in labels.ts, the runs table in table.ts). No JupyterLab imports, so the unit tests run it in plain Node.
 */
import type {
  GraphNode,
  IDiff,
  IGraph,
  IGraphEdge,
  IRunSummary,
  JSONValue
} from './tokens';

/** ELK options measured on lineage-shaped DAGs (see RECIPES): fast and stable. */
export const LAYOUT_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.layered.thoroughness': '1',
  'elk.layered.nodePlacement.strategy': 'LINEAR_SEGMENTS',
  'elk.layered.crossingMinimization.greedySwitch.type': 'OFF',
  'elk.spacing.nodeNode': '14',
  'elk.layered.spacing.nodeNodeBetweenLayers': '28',
  'elk.edgeRouting': 'POLYLINE'
};

const CHAR_WIDTH = 7;
const LINE_HEIGHT = 15;
const NODE_PAD = 13;

export function shortId(id: string): string {
  return id.slice(0, 13);
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

export function basename(path: string | null | undefined): string {
  if (!path) {
    return '';
  }
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '—';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ${Math.round(seconds % 60)} s`;
  }
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "just now", "5 min ago", "3 h ago", then the local date and time. */
export function formatWhen(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) {
    return '—';
  }
  const then = new Date(iso);
  if (isNaN(then.getTime())) {
    return iso;
  }
  const seconds = (now.getTime() - then.getTime()) / 1000;
  if (seconds < 45) {
    return 'just now';
  }
  if (seconds < 3600) {
    return `${Math.round(seconds / 60)} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.round(seconds / 3600)} h ago`;
  }
  return then.toLocaleString();
}

export function formatValue(value: JSONValue | undefined): string {
  if (value === undefined) {
    return '—';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

export function formatMapping(values: Record<string, JSONValue>): string {
  return Object.keys(values)
    .sort()
    .map(key => `${key}=${formatValue(values[key])}`)
    .join(', ');
}

/** Changes whenever a run starts, ends or records another cell: the cue to redraw. */
export function runsSignature(runs: IRunSummary[]): string {
  return runs.map(r => `${r.id}:${r.status}:${r.executions}:${r.errors}`).join('|');
}

/** The two runs to compare first: the one before the newest, and the newest. */
export function defaultPair(runs: IRunSummary[]): [string, string] | null {
  return runs.length >= 2 ? [runs[1].id, runs[0].id] : null;
}

export function edgeKey(edge: IGraphEdge): string {
  return `${edge.source}->${edge.target}:${edge.type}`;
}

export interface IElkNode {
  id: string;
  width: number;
  height: number;
}

export interface IElkGraph {
  id: string;
  layoutOptions: Record<string, string>;
  children: IElkNode[];
  edges: { id: string; sources: string[]; targets: string[] }[];
}

/** A box for some lines of text: wide enough for the longest, tall enough for all. */
export function boxSize(lines: (string | null)[]): { width: number; height: number } {
  const shown = lines.filter((line): line is string => !!line);
  // a few characters of slack: "just now" becomes "12 min ago" without a new layout
  const longest = Math.max(0, ...shown.map(line => line.length)) + 3;
  return {
    width: Math.max(60, longest * CHAR_WIDTH + 20),
    height: Math.max(1, shown.length) * LINE_HEIGHT + NODE_PAD
  };
}

/**
 * The edges drawn: reads, writes and cell to cell (by dataflow, or the order of cells when the
 * run has none); a run reaches only the cells nothing else leads to (an edge to each would
 * cross the whole drawing). Upstream paths still walk every edge.
 */
export function drawnEdges(graph: IGraph): IGraphEdge[] {
  const follows = new Set(
    graph.edges.filter(e => e.type === 'next' || e.type === 'flow').map(e => e.target)
  );
  return graph.edges.filter(e => e.type !== 'contains' || !follows.has(e.target));
}

/**
 * ELK's input: sized boxes and the edges drawn between them (dangling edges dropped). One
 * run's lineage reads top to bottom; many runs (a wide first layer) left to right, so they
 * stack like the rows of a table instead of spreading far sideways.
 */
export function toElk(
  graph: IGraph,
  lines: (node: GraphNode) => (string | null)[],
  direction: 'DOWN' | 'RIGHT' = 'DOWN'
): IElkGraph {
  const ids = new Set(graph.nodes.map(n => n.id));
  return {
    id: 'root',
    layoutOptions: { ...LAYOUT_OPTIONS, 'elk.direction': direction },
    children: graph.nodes.map(node => ({ id: node.id, ...boxSize(lines(node)) })),
    edges: drawnEdges(graph)
      .filter(e => ids.has(e.source) && ids.has(e.target))
      .map(e => ({ id: edgeKey(e), sources: [e.source], targets: [e.target] }))
  };
}

export interface IPath {
  nodes: Set<string>;
  edges: Set<string>;
}

/**
 * Everything a node was made from: walk the edges backwards from it. A cell's upstream follows
 * dataflow: the cells it used variables from, not every cell before it, nor its run.
 */
export function upstream(graph: IGraph, id: string): IPath {
  const incoming = new Map<string, IGraphEdge[]>();
  const flows = graph.edges.some(e => e.type === 'flow');
  for (const edge of graph.edges) {
    if (flows && edge.type === 'contains') {
      continue;
    }
    const list = incoming.get(edge.target) ?? [];
    list.push(edge);
    incoming.set(edge.target, list);
  }
  const nodes = new Set<string>([id]);
  const edges = new Set<string>();
  const todo = [id];
  while (todo.length) {
    const current = todo.pop() as string;
    for (const edge of incoming.get(current) ?? []) {
      edges.add(edgeKey(edge));
      if (!nodes.has(edge.source)) {
        nodes.add(edge.source);
        todo.push(edge.source);
      }
    }
  }
  return { nodes, edges };
}

/** The newest run among the graph's runs (what the Graph tab expands by default). */
export function newestRun(graph: IGraph): string | null {
  let best: { id: string; started: string } | null = null;
  for (const node of graph.nodes) {
    if (node.type === 'run' && (!best || node.started > best.started)) {
      best = { id: node.id, started: node.started };
    }
  }
  return best ? best.id : null;
}

export type DiffLineKind = 'add' | 'del' | 'hunk' | 'file' | 'context';

export interface IDiffLine {
  kind: DiffLineKind;
  text: string;
}

export function diffLines(unified: string): IDiffLine[] {
  return unified
    .split('\n')
    .filter((line, i, all) => !(line === '' && i === all.length - 1))
    .map(text => {
      let kind: DiffLineKind = 'context';
      if (text.startsWith('+++') || text.startsWith('---')) {
        kind = 'file';
      } else if (text.startsWith('@@')) {
        kind = 'hunk';
      } else if (text.startsWith('+')) {
        kind = 'add';
      } else if (text.startsWith('-')) {
        kind = 'del';
      }
      return { kind, text };
    });
}

export interface IRow {
  name: string;
  title?: string;
  status: string;
  a: string;
  b: string;
  extra?: string;
}

export interface ISection {
  key: string;
  title: string;
  rows: IRow[];
  code: { cell: string; status: string; lines: IDiffLine[] }[];
}

function valueRows(value: Record<string, JSONValue>, prefix = ''): IRow[] {
  const rows: IRow[] = [];
  for (const key of Object.keys(value).sort()) {
    const item = value[key];
    if (
      item !== null &&
      typeof item === 'object' &&
      !Array.isArray(item) &&
      ('a' in item || 'b' in item)
    ) {
      rows.push({
        name: prefix + key,
        status: 'changed',
        a: formatValue(item.a),
        b: formatValue(item.b)
      });
    } else if (
      item !== null &&
      typeof item === 'object' &&
      !Array.isArray(item) &&
      ['changed', 'added', 'removed'].some(k => k in item)
    ) {
      rows.push(...mappingRows(item as IDiff['parameters'], prefix + key + ' '));
    } else {
      rows.push({ name: prefix + key, status: 'changed', a: '', b: formatValue(item) });
    }
  }
  return rows;
}

function mappingRows(value: IDiff['parameters'], prefix = ''): IRow[] {
  const rows: IRow[] = [];
  for (const [name, change] of Object.entries(value.changed ?? {})) {
    rows.push({
      name: prefix + name,
      status: 'changed',
      a: formatValue(change.a),
      b: formatValue(change.b)
    });
  }
  for (const [name, v] of Object.entries(value.added ?? {})) {
    rows.push({ name: prefix + name, status: 'added', a: '—', b: formatValue(v) });
  }
  for (const [name, v] of Object.entries(value.removed ?? {})) {
    rows.push({ name: prefix + name, status: 'removed', a: formatValue(v), b: '—' });
  }
  return rows;
}

/** The diff as titled sections in the order the CLI prints them; empty ones included. */
export function diffSections(diff: IDiff): ISection[] {
  const folder = dirname(diff.b.notebook ?? diff.a.notebook);
  const files = (items: IDiff['inputs']): IRow[] =>
    items.map(f => ({
      name: relativePath(f.path, folder),
      title: f.path,
      status: f.status,
      a: f.a ? shortHash(f.a) : '—',
      b: f.b ? shortHash(f.b) : '—',
      extra: f.kind
    }));
  const same = sameMetrics(diff);
  const metrics: IRow[] = [...Object.keys(diff.metrics), ...Object.keys(same)]
    .sort()
    .map(name => {
      if (name in same) {
        const value = formatValue(same[name]);
        return { name, status: 'same', a: value, b: value };
      }
      const m = diff.metrics[name];
      const delta =
        m.delta === null || m.delta === undefined
          ? undefined
          : (m.delta > 0 ? '+' : '') + formatValue(m.delta);
      return {
        name,
        status: m.a === null ? 'added' : m.b === null ? 'removed' : 'changed',
        a: formatValue(m.a),
        b: formatValue(m.b),
        extra: delta
      };
    });
  return [
    { key: 'parameters', title: 'Parameters', rows: mappingRows(diff.parameters), code: [] },
    {
      key: 'code',
      title: 'Code',
      rows: [],
      code: diff.code.map(c => ({
        cell: c.cell_id ?? `#${(c.index_a ?? c.index_b ?? 0) + 1}`,
        status: c.status,
        lines: diffLines(c.diff)
      }))
    },
    { key: 'inputs', title: 'Inputs', rows: files(diff.inputs), code: [] },
    { key: 'outputs', title: 'Outputs', rows: files(diff.outputs), code: [] },
    { key: 'metrics', title: 'Metrics', rows: metrics, code: [] },
    { key: 'environment', title: 'Environment', rows: valueRows(diff.environment), code: [] },
    {
      key: 'git',
      title: 'Git',
      rows: valueRows(omit(diff.git, 'diff')),
      code:
        typeof diff.git.diff === 'string'
          ? [{ cell: 'uncommitted changes', status: 'changed', lines: diffLines(diff.git.diff) }]
          : []
    },
    { key: 'status', title: 'Status', rows: statusRows(diff.status), code: [] }
  ];
}

/** Metrics both runs recorded with the same value: the API leaves them out of `metrics`. */
function sameMetrics(diff: IDiff): Record<string, number> {
  const a = diff.a.metrics ?? {};
  const b = diff.b.metrics ?? {};
  const out: Record<string, number> = {};
  for (const name of Object.keys(a)) {
    if (!(name in diff.metrics) && name in b && a[name] === b[name]) {
      out[name] = a[name];
    }
  }
  return out;
}

function omit(value: Record<string, JSONValue>, key: string): Record<string, JSONValue> {
  const out = { ...value };
  delete out[key];
  return out;
}

function statusRows(status: Record<string, JSONValue>): IRow[] {
  if (!('a' in status || 'b' in status)) {
    return [];
  }
  const error = (e: JSONValue | undefined): string =>
    e && typeof e === 'object' && !Array.isArray(e)
      ? `${formatValue(e.name)}: ${formatValue(e.value)}`
      : '—';
  return [
    { name: 'status', status: 'changed', a: formatValue(status.a), b: formatValue(status.b) },
    { name: 'error', status: 'changed', a: error(status.error_a), b: error(status.error_b) }
  ];
}

/** How many differences a section holds (unchanged rows, shown greyed, do not count). */
export function sectionSize(section: ISection): number {
  return section.rows.filter(r => r.status !== 'same').length + section.code.length;
}

/** The first 8 hex digits of a content hash, without its algorithm prefix. */
export function shortHash(hash: string): string {
  const digest = hash.includes(':') ? hash.slice(hash.indexOf(':') + 1) : hash;
  return digest.slice(0, 8);
}

export function dirname(path: string | null | undefined): string {
  if (!path || !path.includes('/')) {
    return '';
  }
  return path.slice(0, path.lastIndexOf('/'));
}

/** A path as the notebook's folder sees it (`out/model.joblib`); others stay absolute. */
export function relativePath(path: string, folder: string): string {
  return folder && path.startsWith(folder + '/') ? path.slice(folder.length + 1) : path;
}
