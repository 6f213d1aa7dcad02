import * as React from 'react';

import {
  errorAdvice,
  artifactVersion,
  nodeLines,
  outline,
  runFacts,
  runTitle,
  staleHint,
  type ILabelContext
} from '../labels';
import type { LineageModel } from '../model';
import type { IPath } from '../shape';
import type { GraphNode, IGraph, IRunNode } from '../tokens';
import { FocusPicker, SearchBox, focusName, useGraphState } from './GraphTools';
import { Message } from './Message';
import { NodeDetails } from './NodeDetails';

function itemClasses(
  node: GraphNode,
  selected: string | null,
  path: IPath | null,
  found: Set<string> | null
): string {
  return [
    'jp-Lineage-item',
    `jp-Lineage-item-${node.type}`,
    node.type === 'artifact' ? `jp-Lineage-kind-${node.kind}` : '',
    (node.type === 'artifact' || node.type === 'execution') && node.stale ? 'jp-mod-stale' : '',
    node.type === 'execution' && node.error ? 'jp-mod-error' : '',
    selected === node.id ? 'jp-mod-selected' : '',
    path?.nodes.has(node.id) ? 'jp-mod-upstream' : path ? 'jp-mod-dimmed' : ''
  ]
    .filter(Boolean)
    .join(' ');
}

/** One line of the outline: a node's name (or what a cell did) and what tells it apart. */
function Item(props: {
  node: GraphNode;
  ctx: ILabelContext;
  model: LineageModel;
  path: IPath | null;
  found: Set<string> | null;
  note?: string;
}): JSX.Element | null {
  const { node, ctx, model, path, found } = props;
  if (found && !found.has(node.id)) {
    return null;
  }
  let main: string;
  let sub: string | null;
  switch (node.type) {
    case 'artifact':
      main = node.name;
      sub = artifactVersion(ctx, node);
      break;
    case 'run':
      main = runTitle(node, ctx.now);
      sub = props.note ?? runNote(ctx, node);
      break;
    case 'execution':
      [main, sub] = nodeLines(ctx, node);
      break;
  }
  const selected = model.graph.selected;
  return (
    <li>
      <button
        className={itemClasses(node, selected, path, found)}
        data-node-id={node.id}
        data-node-type={node.type}
        data-name={node.type === 'artifact' ? node.name : undefined}
        aria-pressed={selected === node.id}
        title={node.type === 'artifact' ? node.path : node.type === 'execution' ? node.source : node.id}
        onClick={() => model.graph.select(selected === node.id ? null : node.id)}
      >
        <span className="jp-Lineage-item-main">{main}</span>
        {sub && <span className="jp-Lineage-item-sub">{sub}</span>}
        {(node.type === 'artifact' || node.type === 'execution') && node.stale && (
          <span className="jp-Lineage-stale-tag" title={staleHint(node)}>
            stale
          </span>
        )}
      </button>
    </li>
  );
}

function runNote(ctx: ILabelContext, run: IRunNode): string {
  const facts = runFacts({ parameters: run.parameters, metrics: ctx.runs.get(run.id)?.metrics });
  return facts ? `${run.status} · ${facts}` : run.status;
}

function Section(props: { title: string; count?: number; children: React.ReactNode }): JSX.Element {
  return (
    <section className="jp-Lineage-outline-section">
      <h3>
        {props.title}
        {props.count !== undefined && <span className="jp-Lineage-count">{props.count}</span>}
      </h3>
      <ul>{props.children}</ul>
    </section>
  );
}

function Outline(props: { model: LineageModel; data: IGraph }): JSX.Element {
  const { model, data } = props;
  const graph = model.graph;
  const state = useGraphState(model, data);
  const { ctx, selected } = state;
  const o = outline(ctx, graph.expandedRun);
  const item = (node: GraphNode, note?: string): JSX.Element => (
    <Item key={node.id} node={node} ctx={ctx} model={model} path={state.path} found={state.found} note={note} />
  );
  return (
    <>
      <div className="jp-Lineage-toolbar" role="toolbar" aria-label="Graph tools">
        <button
          className="jp-mod-styled jp-mod-accept"
          title="Open the graph in the main work area, drawn large"
          onClick={() => model.openGraph()}
        >
          Open graph
        </button>
        <FocusPicker graph={graph} runs={model.runs.data ?? []} artifactName={focusName(model, ctx)} />
        <SearchBox graph={graph} count={state.found ? state.found.size : null} />
      </div>
      <div className="jp-Lineage-outline" aria-label="Lineage outline">
        {o.run && (
          <div className="jp-Lineage-outline-run">
            {item(o.run, runNote(ctx, o.run))}
          </div>
        )}
        {o.upstream.length > 0 && (
          <Section title="Made from runs" count={o.upstream.length}>
            {o.upstream.map(u => item(u.run, `wrote ${u.wrote.join(', ')}`))}
          </Section>
        )}
        <Section title="Inputs" count={o.inputs.length}>
          {o.inputs.map(a => item(a))}
        </Section>
        {o.run && (
          <Section title="Cells" count={o.cells.length}>
            {o.cells.map(c => item(c))}
          </Section>
        )}
        {o.run && (
          <Section title="Outputs" count={o.outputs.length}>
            {o.outputs.map(a => item(a))}
          </Section>
        )}
        {o.others > 0 && (
          <p className="jp-Lineage-outline-more">
            {`${o.others} other ${o.others === 1 ? 'run' : 'runs'} in this view: `}
            <button className="jp-Lineage-link" onClick={() => model.openGraph()}>
              open the graph
            </button>
          </p>
        )}
      </div>
      {selected && <NodeDetails node={selected} ctx={ctx} model={model} />}
    </>
  );
}

/** The sidebar's compact view: the focused lineage as a list that reads at any width. */
export function GraphView(props: { model: LineageModel }): JSX.Element {
  const { model } = props;
  const { data, error, loading } = model.graph.graph;
  if (error && !data) {
    return (
      <Message
        kind="error"
        title="Could not load the lineage graph."
        hint={errorAdvice(error)}
        action={{ label: 'Retry', onClick: () => void model.graph.load(true) }}
      />
    );
  }
  if (!data) {
    return <Message kind="loading" title={loading ? 'Loading the graph…' : 'No graph yet.'} />;
  }
  if (data.nodes.length === 0) {
    return (
      <Message
        title="Nothing recorded was read or written yet."
        hint="Files and URLs the notebook reads and writes appear here as soon as a cell touches them."
      />
    );
  }
  return (
    <div className="jp-Lineage-graph">
      <Outline model={model} data={data} />
    </div>
  );
}
