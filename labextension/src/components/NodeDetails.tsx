import { Clipboard } from '@jupyterlab/apputils';
import * as React from 'react';

import {
  formatMetrics,
  nodeDetails,
  nodeLines,
  previousRun,
  runOf,
  runTitle,
  writerCell,
  type ILabelContext
} from '../labels';
import type { LineageModel } from '../model';
import type { GraphNode } from '../tokens';

/** A run's latest metrics: from the loaded runs, else asked of the server once. */
function useRunMetrics(model: LineageModel, ctx: ILabelContext, runId: string | null) {
  const known = runId ? ctx.runs.get(runId)?.metrics : undefined;
  const [fetched, setFetched] = React.useState<{ id: string; metrics: Record<string, number> } | null>(null);
  React.useEffect(() => {
    let live = true;
    if (runId && !known) {
      model
        .runDetail(runId)
        .then(detail => live && setFetched({ id: runId, metrics: detail.metrics }))
        .catch(() => undefined);
    }
    return () => {
      live = false;
    };
  }, [runId, known === undefined]);
  if (known) {
    return known;
  }
  return fetched && fetched.id === runId ? fetched.metrics : null;
}

/** A button for a server action that reports in place: its progress, result or error. */
function ActionButton(props: {
  label: string;
  title: string;
  busy: string;
  failed: string;
  resetKey: string;
  action: () => Promise<string>;
}): JSX.Element {
  const { label, title, busy, failed, resetKey, action } = props;
  const [state, setState] = React.useState('');
  React.useEffect(() => setState(''), [resetKey]);
  const act = async (): Promise<void> => {
    setState(busy);
    try {
      setState(await action());
    } catch (error) {
      setState(`${failed}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  return (
    <>
      <button className="jp-mod-styled" title={title} onClick={() => void act()}>
        {label}
      </button>
      {state && (
        <span className="jp-Lineage-details-note" role="status">
          {state}
        </span>
      )}
    </>
  );
}

/** Copies the run's exact pins (as `jupyter lineage env RUN` prints them) to the clipboard. */
function CopyRequirements(props: { model: LineageModel; runId: string }): JSX.Element {
  const { model, runId } = props;
  return (
    <ActionButton
      label="Copy requirements"
      title="Copy this run's packages, each pinned to its recorded version, as a requirements.txt"
      busy="Copying…"
      failed="Could not copy"
      resetKey={runId}
      action={async () => {
        Clipboard.copyToSystem(await model.requirements(runId));
        return 'Copied';
      }}
    />
  );
}

/** Saves the minimal notebook that rebuilds this file version beside the notebook, opens it. */
function Gather(props: { model: LineageModel; artifact: string }): JSX.Element {
  const { model, artifact } = props;
  return (
    <ActionButton
      label="Gather"
      title="Open a new notebook with only the cells this version was made from, in the order they ran (jupyter lineage gather)"
      busy="Gathering…"
      failed="Could not gather"
      resetKey={artifact}
      action={async () => `Opened ${await model.gather(artifact)}`}
    />
  );
}

/**
 * A node's details: first what you can do with it (go to its cell, trace it, compare its run
 * with the one before), then what it is, which run made it and that run's metrics.
 */
export function NodeDetails(props: {
  node: GraphNode;
  ctx: ILabelContext;
  model: LineageModel;
}): JSX.Element {
  const { node, ctx, model } = props;
  const graph = model.graph;
  const run = runOf(ctx, node);
  const metrics = useRunMetrics(model, ctx, run?.id ?? null);
  const runs = model.runs.data ?? [];
  const before = previousRun(ctx, node, runs);
  const cell = node.type === 'execution' ? node : node.type === 'artifact' ? writerCell(ctx, node.id) : null;
  const focusedHere =
    (node.type === 'run' && graph.expandedRun === node.id && graph.focus.kind !== 'all') ||
    (node.type === 'artifact' && graph.focus.kind === 'artifact' && graph.focus.id === node.id);
  const [first] = nodeLines(ctx, node);
  const all = nodeDetails(ctx, node);
  const rows = all.filter(([label]) => label !== 'Source');
  const source = all.find(([label]) => label === 'Source')?.[1];
  return (
    <div className="jp-Lineage-details" aria-label="Node details">
      <div className="jp-Lineage-details-title" title={first}>
        {node.type === 'artifact' ? `${node.kind} · ${node.name}` : node.type === 'run' ? runTitle(node, ctx.now) : first}
      </div>
      <div className="jp-Lineage-details-actions">
        {cell && model.hasCell(cell.cell_id) && (
          <button
            className="jp-mod-styled jp-mod-accept"
            title="Select this cell in the notebook"
            onClick={() => cell.cell_id && model.goToCell(cell.cell_id)}
          >
            Go to cell
          </button>
        )}
        {node.type !== 'execution' && !focusedHere && (
          <button
            className="jp-mod-styled"
            title={
              node.type === 'artifact'
                ? 'Show what this version was made from'
                : 'Show this run with its cells, and what it read'
            }
            onClick={() =>
              graph.setFocus(
                node.type === 'artifact'
                  ? { kind: 'artifact', id: node.id, run: run?.id ?? null }
                  : { kind: 'run', id: node.id },
                node.id
              )
            }
          >
            Trace
          </button>
        )}
        {node.type === 'run' && graph.focus.kind === 'all' && graph.expandedRun !== node.id && (
          <button className="jp-mod-styled" onClick={() => graph.expand(node.id)}>
            Show its cells
          </button>
        )}
        {run && before && (
          <button
            className="jp-mod-styled"
            title={
              node.type === 'artifact'
                ? 'Compare the run that wrote this version with the one that wrote the version before'
                : 'Compare this run with the run before it'
            }
            onClick={() => model.compare(before, run.id)}
          >
            Diff
          </button>
        )}
        {node.type === 'run' && <CopyRequirements model={model} runId={node.id} />}
        {node.type === 'artifact' &&
          ctx.graph.edges.some(e => e.type === 'wrote' && e.target === node.id) && (
            <Gather model={model} artifact={node.id} />
          )}
      </div>
      <dl>
        {rows.map(([label, value]) => (
          <React.Fragment key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </React.Fragment>
        ))}
        {run && (
          <>
            <dt>{node.type === 'run' ? 'Metrics' : 'Run metrics'}</dt>
            <dd className="jp-Lineage-details-metrics">
              {metrics === null ? '…' : formatMetrics(metrics) || 'none recorded'}
            </dd>
          </>
        )}
        {source !== undefined && (
          <>
            <dt>Source</dt>
            <dd className="jp-Lineage-source">{source}</dd>
          </>
        )}
      </dl>
    </div>
  );
}
