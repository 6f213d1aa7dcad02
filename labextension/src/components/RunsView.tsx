import * as React from 'react';

import type { LineageModel } from '../model';
import { formatDuration, formatMapping, formatValue, formatWhen, shortId } from '../shape';
import type { IRunSummary } from '../tokens';

function RunItem(props: { run: IRunSummary; model: LineageModel }): JSX.Element {
  const { run, model } = props;
  const params = formatMapping(run.parameters);
  const metrics = Object.keys(run.metrics)
    .sort()
    .map(name => `${name} ${formatValue(run.metrics[name])}`)
    .join(' · ');
  return (
    <li className="jp-Lineage-run" data-run-id={run.id} aria-label={`run ${run.id}`}>
      <div className="jp-Lineage-run-head">
        <span className={`jp-Lineage-status jp-Lineage-status-${run.status}`}>{run.status}</span>
        <span className="jp-Lineage-run-kind">{run.kind}</span>
        <span className="jp-Lineage-run-id" title={run.id}>
          {shortId(run.id)}
        </span>
      </div>
      <div className="jp-Lineage-run-meta" title={run.started}>
        {formatWhen(run.started)} · {formatDuration(run.duration_s)} · {run.executions}{' '}
        {run.executions === 1 ? 'cell' : 'cells'}
        {run.errors > 0 && ` · ${run.errors} failed`}
      </div>
      {params && <div className="jp-Lineage-run-params">{params}</div>}
      {metrics && <div className="jp-Lineage-run-metrics">{metrics}</div>}
      {run.error && (
        <div className="jp-Lineage-run-error">
          {run.error.name}: {run.error.value}
        </div>
      )}
      <div className="jp-Lineage-run-actions">
        <button className="jp-Lineage-link" onClick={() => model.showRunGraph(run.id)}>
          Graph
        </button>
      </div>
    </li>
  );
}

export function RunsView(props: { model: LineageModel; runs: IRunSummary[] }): JSX.Element {
  return (
    <ul className="jp-Lineage-runs" aria-label="Runs">
      {props.runs.map(run => (
        <RunItem key={run.id} run={run} model={props.model} />
      ))}
    </ul>
  );
}
