import * as React from 'react';

import { runState, runTitle } from '../labels';
import type { LineageModel } from '../model';
import { cellText, nextSort, RUN_COLUMN, type IColumn } from '../table';
import type { IRunSummary } from '../tokens';

function SortHeader(props: { model: LineageModel; column: IColumn; className?: string }): JSX.Element {
  const { model, column } = props;
  const sort = model.sort;
  const active = sort?.key === column.key;
  const label = column.kind === 'run' ? 'Run' : column.name;
  const kind = column.kind === 'param' ? 'parameter' : column.kind === 'metric' ? 'metric' : '';
  return (
    <th
      className={`jp-Lineage-th jp-Lineage-th-${column.kind} ${props.className ?? ''}`}
      data-column={column.key}
      aria-sort={active ? (sort?.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
    >
      <button
        className="jp-Lineage-sort"
        title={`Sort by ${kind ? `${kind} ` : ''}${label}${column.kind === 'run' ? ' (when it started)' : ''}`}
        onClick={() => model.setSort(nextSort(sort, column))}
      >
        <span className="jp-Lineage-th-name">{label}</span>
        <span className="jp-Lineage-sort-mark" aria-hidden="true">
          {active ? (sort?.dir === 'asc' ? '▲' : '▼') : ''}
        </span>
      </button>
    </th>
  );
}

function RunCell(props: { run: IRunSummary; model: LineageModel }): JSX.Element {
  const { run, model } = props;
  const title = runTitle(run);
  return (
    <td className="jp-Lineage-run-cell">
      <div className="jp-Lineage-run-head">
        <span className="jp-Lineage-run-title" title={`${run.id}\nstarted ${run.started}`}>
          {title}
        </span>
        <button
          className="jp-Lineage-link"
          title="Show this run's lineage"
          onClick={event => {
            event.stopPropagation();
            model.showRunGraph(run.id);
          }}
        >
          Graph
        </button>
      </div>
      <div className="jp-Lineage-run-meta" title={run.notebook ?? ''}>
        <span className={`jp-Lineage-status jp-Lineage-status-${run.status}`}>{runState(run)}</span>{' '}
        <span className="jp-Lineage-run-kind">{run.kind}</span>
        {` · ${run.executions} ${run.executions === 1 ? 'cell' : 'cells'}`}
        {run.errors > 0 && ` · ${run.errors} failed`}
      </div>
      {run.error && (
        <div className="jp-Lineage-run-error" title={`${run.error.name}: ${run.error.value}`}>
          {run.error.name}: {run.error.value}
        </div>
      )}
    </td>
  );
}

/**
 * Runs × parameters × metrics. Click a header to sort, a row to pick it: picking a second
 * row opens the diff of the two (the first picked is A).
 */
export function RunsTable(props: {
  model: LineageModel;
  rows: IRunSummary[];
  columns: IColumn[];
}): JSX.Element {
  const { model, rows, columns } = props;
  const selection = model.selection;
  return (
    <div className="jp-Lineage-table-scroll">
      <table className="jp-Lineage-runs" aria-label="Runs">
        <thead>
          <tr>
            <th className="jp-Lineage-col-select">
              <span className="jp-Lineage-hidden-text">Select</span>
            </th>
            <SortHeader model={model} column={RUN_COLUMN} className="jp-Lineage-col-run" />
            {columns.map(column => (
              <SortHeader key={column.key} model={model} column={column} />
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(run => {
            const picked = selection.indexOf(run.id);
            return (
              <tr
                key={run.id}
                className={`jp-Lineage-run${picked >= 0 ? ' jp-mod-selected' : ''}`}
                data-run-id={run.id}
                aria-selected={picked >= 0}
                aria-label={`run ${run.id}`}
                onClick={() => model.toggleSelected(run.id)}
              >
                <td className="jp-Lineage-col-select">
                  <input
                    type="checkbox"
                    checked={picked >= 0}
                    aria-label={`Select run ${runTitle(run)}`}
                    title={picked === 0 ? 'A' : picked === 1 ? 'B' : 'Select'}
                    onClick={event => event.stopPropagation()}
                    onChange={() => model.toggleSelected(run.id)}
                  />
                </td>
                <RunCell run={run} model={model} />
                {columns.map(column => (
                  <td
                    key={column.key}
                    className={`jp-Lineage-td jp-Lineage-td-${column.kind}`}
                    data-column={column.key}
                    data-name={column.name}
                    title={`${column.name}: ${cellText(run, column)}`}
                  >
                    {cellText(run, column)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
