import * as React from 'react';

import { GRAPH_MAX, GRAPH_PAGE, type GraphModel } from '../graphModel';
import { labelContext, matches, runFacts, runTitle, type ILabelContext } from '../labels';
import type { LineageModel } from '../model';
import { upstream, type IPath } from '../shape';
import type { Focus, GraphNode, IGraph, IRunSummary } from '../tokens';

const PICKED_RUNS = 50;

function focusValue(focus: Focus): string {
  switch (focus.kind) {
    case 'latest':
    case 'all':
      return focus.kind;
    case 'run':
      return `run:${focus.id}`;
    case 'artifact':
      return `artifact:${focus.id}`;
  }
}

/** The graph with what views draw on it: labels, the selection's upstream, search matches. */
export interface IGraphState {
  ctx: ILabelContext;
  path: IPath | null;
  found: Set<string> | null;
  selected: GraphNode | null;
}

export function useGraphState(model: LineageModel, data: IGraph): IGraphState {
  const graph = model.graph;
  const runs = model.runs.data;
  const ctx = React.useMemo(() => labelContext(data, runs), [data, runs]);
  const path = React.useMemo(
    () => (graph.selected && ctx.byId.has(graph.selected) ? upstream(data, graph.selected) : null),
    [data, graph.selected]
  );
  const found = React.useMemo(() => {
    if (!graph.query.trim()) {
      return null;
    }
    return new Set(data.nodes.filter(n => matches(ctx, n, graph.query)).map(n => n.id));
  }, [ctx, graph.query]);
  const selected = graph.selected ? ctx.byId.get(graph.selected) ?? null : null;
  return { ctx, path, found, selected };
}

/** The name of the artifact the graph is focused on, for the picker. */
export function focusName(model: LineageModel, ctx: ILabelContext): string | undefined {
  const focus = model.graph.focus;
  if (focus.kind !== 'artifact') {
    return undefined;
  }
  const node = ctx.byId.get(focus.id);
  return node?.type === 'artifact' ? node.name : undefined;
}

/** What the graph shows: the newest run (default), another run, an artifact's upstream, or all. */
export function FocusPicker(props: {
  graph: GraphModel;
  runs: IRunSummary[];
  artifactName?: string;
}): JSX.Element {
  const { graph, runs } = props;
  const focus = graph.focus;
  const newest = runs[0];
  const value = focusValue(focus);
  const listed = runs.slice(0, PICKED_RUNS);
  const label = (run: IRunSummary): string => {
    const facts = runFacts(run);
    return facts ? `${runTitle(run)} · ${facts}` : runTitle(run);
  };
  return (
    <select
      className="jp-mod-styled jp-Lineage-focus"
      aria-label="Show the lineage of"
      title="What the graph shows"
      value={value}
      onChange={event => {
        const v = event.target.value;
        if (v === 'latest' || v === 'all') {
          graph.setFocus({ kind: v });
        } else if (v.startsWith('run:')) {
          graph.setFocus({ kind: 'run', id: v.slice(4) });
        }
      }}
    >
      <option value="latest">{newest ? `Newest run · ${label(newest)}` : 'Newest run'}</option>
      {focus.kind === 'artifact' && (
        <option value={value}>{`Upstream of ${props.artifactName ?? 'the artifact'}`}</option>
      )}
      {focus.kind === 'run' && !listed.some(r => r.id === focus.id) && (
        <option value={value}>{`Run ${focus.id}`}</option>
      )}
      {listed.map(run => (
        <option key={run.id} value={`run:${run.id}`}>
          {label(run)}
        </option>
      ))}
      <option value="all">All runs of the notebook</option>
    </select>
  );
}

/** The search box: matching nodes stay bright, Enter shows the next one. */
export function SearchBox(props: {
  graph: GraphModel;
  count: number | null;
  onNext?: () => void;
}): JSX.Element {
  const { graph, count } = props;
  return (
    <div className="jp-Lineage-search">
      <input
        type="search"
        className="jp-mod-styled"
        placeholder="Search nodes: name, path, code…"
        aria-label="Search nodes"
        value={graph.query}
        onChange={event => graph.setQuery(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter') {
            props.onNext?.();
          } else if (event.key === 'Escape') {
            graph.setQuery('');
          }
        }}
      />
      {graph.query.trim() !== '' && count !== null && (
        <span className="jp-Lineage-search-count" aria-live="polite">
          {count === 0 ? 'no match' : `${count} ${count === 1 ? 'match' : 'matches'}`}
        </span>
      )}
    </div>
  );
}

/** "50 of 100 runs shown" and the way to see more, in the all-runs view. */
export function RunsShown(props: { graph: GraphModel; data: IGraph }): JSX.Element | null {
  const { graph, data } = props;
  if (graph.focus.kind !== 'all' || data.total === undefined || data.shown === undefined) {
    return data.truncated ? (
      <span className="jp-Lineage-shown">cut to fit the graph's bounds: search, or trace one node</span>
    ) : null;
  }
  const rest = data.total - data.shown;
  const more = Math.min(rest, GRAPH_PAGE, GRAPH_MAX - graph.limit);
  return (
    <span className="jp-Lineage-shown" aria-live="polite">
      {`${data.shown} of ${data.total} runs shown`}
      {more > 0 ? (
        <button className="jp-Lineage-link" onClick={() => graph.showMore()}>
          {`Show ${more} more`}
        </button>
      ) : (
        rest > 0 && ' (the newest 200 at most: filter the Runs tab, or trace one run)'
      )}
      {data.truncated && ' · cut to fit: search, or trace one run'}
    </span>
  );
}
