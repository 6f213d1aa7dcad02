import * as React from 'react';

import type { LineageModel } from '../model';
import { sortRuns, tableColumns, type IColumn } from '../table';
import type { IRunSummary } from '../tokens';
import { Message } from './Message';
import { RunsTable } from './RunsTable';

// chart.js loads when a plot is first opened, not with the sidebar
const RunsPlot = React.lazy(() => import('./RunsPlot').then(m => ({ default: m.RunsPlot })));

/** The filter box: `runs --where` conditions, applied on Enter, checked by the server. */
function Filter(props: { model: LineageModel }): JSX.Element {
  const { model } = props;
  const [text, setText] = React.useState(model.where);
  React.useEffect(() => setText(model.where), [model.where]);
  return (
    <form
      className="jp-Lineage-filter"
      role="search"
      onSubmit={event => {
        event.preventDefault();
        model.setWhere(text);
      }}
    >
      <input
        type="search"
        className="jp-mod-styled"
        aria-label="Filter runs"
        title="Conditions like `jupyter lineage runs --where`: a metric (auc > 0.8) or a parameter (params.C = 0.5), separated by commas. Enter applies."
        placeholder="Filter: auc > 0.8, params.C = 0.5"
        value={text}
        onChange={event => {
          setText(event.target.value);
          if (event.target.value === '' && model.where) {
            model.setWhere('');
          }
        }}
      />
    </form>
  );
}

/** Which columns to show: the choice is saved in the settings (hiddenRunColumns). */
function ColumnsMenu(props: { model: LineageModel; columns: IColumn[] }): JSX.Element {
  const { model, columns } = props;
  const hidden = new Set(model.hidden);
  return (
    <details className="jp-Lineage-columns">
      <summary className="jp-mod-styled" title="Choose the table's columns">
        Columns
      </summary>
      <fieldset aria-label="Columns to show">
        {columns.length === 0 && <p>No parameters or metrics recorded yet.</p>}
        {columns.map(column => (
          <label key={column.key} title={column.key}>
            <input
              type="checkbox"
              checked={!hidden.has(column.key)}
              onChange={event => {
                const next = new Set(hidden);
                if (event.target.checked) {
                  next.delete(column.key);
                } else {
                  next.add(column.key);
                }
                model.setHidden([...next].sort());
              }}
            />
            <span>
              {column.name}
              {column.kind === 'param' ? ' (parameter)' : column.kind === 'metric' ? ' (metric)' : ''}
            </span>
          </label>
        ))}
      </fieldset>
    </details>
  );
}

function Count(props: { model: LineageModel; rows: IRunSummary[] }): JSX.Element {
  const { model, rows } = props;
  const n = rows.length;
  let text: string;
  if (model.where && model.filtered.error) {
    text = 'filter not applied';
  } else if (model.where) {
    text = `${n} ${n === 1 ? 'run matches' : 'runs match'}`;
  } else if (model.more) {
    text = `newest ${n} runs shown`;
  } else {
    text = `${n} ${n === 1 ? 'run' : 'runs'}`;
  }
  return (
    <span className="jp-Lineage-runs-count" aria-live="polite">
      {text}
      {model.more && model.runsLimit < 1000 && (
        <button className="jp-Lineage-link" onClick={() => model.showMoreRuns()}>
          Show more
        </button>
      )}
    </span>
  );
}

function SelectionBar(props: { model: LineageModel }): JSX.Element | null {
  const { model } = props;
  const n = model.selection.length;
  if (n === 0) {
    return (
      <p className="jp-Lineage-hint">
        Pick two rows to compare them; sort by a metric to find the ones to pick.
      </p>
    );
  }
  return (
    <div className="jp-Lineage-selection" aria-label="Selected runs">
      <span>{`${n} selected`}</span>
      {n === 2 && (
        <button className="jp-mod-styled" onClick={() => model.compare(model.selection[0], model.selection[1])}>
          Compare
        </button>
      )}
      <button className="jp-mod-styled" onClick={() => model.clearSelection()}>
        Clear
      </button>
    </div>
  );
}

/** The Runs tab: the runs of the notebook as a table to sort, filter, pick and plot. */
export function RunsView(props: { model: LineageModel; runs: IRunSummary[] }): JSX.Element {
  const { model } = props;
  const table = model.tableRuns;
  const rows = React.useMemo(
    () => sortRuns(table.data ?? [], model.sort),
    [table.data, model.sort]
  );
  const all = React.useMemo(() => tableColumns(props.runs.concat(table.data ?? [])), [props.runs, table.data]);
  const columns = all.filter(c => !model.hidden.includes(c.key));
  return (
    <div className="jp-Lineage-runs-view">
      <div className="jp-Lineage-toolbar" role="toolbar" aria-label="Runs tools">
        <Filter model={model} />
        <ColumnsMenu model={model} columns={all} />
        <button
          className={`jp-mod-styled${model.plotOpen ? ' jp-mod-active' : ''}`}
          aria-pressed={model.plotOpen}
          title="Plot a metric across the runs: against a parameter, or against the step"
          onClick={() => model.setPlot(!model.plotOpen)}
        >
          Plot
        </button>
        <Count model={model} rows={rows} />
      </div>
      {table.error ? (
        <Message
          kind="error"
          title="The filter was not applied."
          hint={
            table.error.code === 'bad_input'
              ? `“${model.where}” is not a list of conditions. Write each as NAME OP VALUE — a metric (auc > 0.8) or a parameter (params.C = 0.5), OP one of = != < <= > >= — separated by commas.`
              : table.error.message
          }
        />
      ) : (
        <>
          {table.loading && !table.data && <Message kind="loading" title="Filtering…" />}
          {model.plotOpen && rows.length > 0 && (
            <React.Suspense fallback={<Message kind="loading" title="Loading the plot…" />}>
              <RunsPlot model={model} rows={rows} />
            </React.Suspense>
          )}
          <SelectionBar model={model} />
          {table.data && rows.length === 0 ? (
            <Message title="No run matches the filter." hint="Loosen a condition, or clear the filter." />
          ) : (
            <RunsTable model={model} rows={rows} columns={columns} />
          )}
        </>
      )}
    </div>
  );
}
