import * as React from 'react';

import { errorAdvice, runFacts, runTitle } from '../labels';
import type { LineageModel } from '../model';
import { diffSections, formatDuration, sectionSize } from '../shape';
import type { IDiff, IRunSummary } from '../tokens';
import { Message } from './Message';

function RunPicker(props: {
  label: string;
  value: string;
  runs: IRunSummary[];
  onChange: (id: string) => void;
}): JSX.Element {
  const text = (run: IRunSummary): string => {
    const facts = runFacts(run);
    return `${runTitle(run)}${facts ? ` · ${facts}` : ''} · ${run.status}`;
  };
  const current = props.runs.find(run => run.id === props.value);
  return (
    <label className="jp-Lineage-picker">
      <span>{props.label}</span>
      <select
        className="jp-mod-styled"
        aria-label={props.label}
        title={current ? `${current.id}\n${text(current)}` : props.value}
        value={props.value}
        onChange={event => props.onChange(event.target.value)}
      >
        {!current && <option value={props.value}>{props.value}</option>}
        {props.runs.map(run => (
          <option key={run.id} value={run.id}>
            {text(run)}
          </option>
        ))}
      </select>
    </label>
  );
}

function Sections(props: { diff: IDiff }): JSX.Element {
  const sections = diffSections(props.diff);
  const total = sections.reduce((n, s) => n + sectionSize(s), 0);
  return (
    <div className="jp-Lineage-diff-sections">
      <p className="jp-Lineage-diff-summary">
        {total === 0
          ? 'No differences: same parameters, code, inputs, outputs, metrics, environment and git state.'
          : `${total} ${total === 1 ? 'difference' : 'differences'}`}{' '}
        · duration {formatDuration(props.diff.a.duration_s)} →{' '}
        {formatDuration(props.diff.b.duration_s)}
      </p>
      {sections.map(section => {
        const size = sectionSize(section);
        return (
          <details
            key={section.key}
            className="jp-Lineage-diff-section"
            data-section={section.key}
            open={size > 0}
          >
            <summary>
              {section.title} <span className="jp-Lineage-count">{size === 0 ? 'same' : size}</span>
            </summary>
            {section.rows.length > 0 && (
              <table className="jp-Lineage-diff-table">
                <colgroup>
                  <col className="jp-Lineage-col-name" />
                  <col />
                  <col />
                  <col className="jp-Lineage-col-extra" />
                </colgroup>
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>A</th>
                    <th>B</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {section.rows.map(row => (
                    <tr key={row.name} className={`jp-Lineage-row-${row.status}`}>
                      <td className="jp-Lineage-diff-name" title={row.title ?? row.name}>
                        {row.name}
                      </td>
                      <td data-label="A" title={row.a}>
                        {row.a}
                      </td>
                      <td data-label="B" title={row.b}>
                        {row.b}
                      </td>
                      <td className="jp-Lineage-diff-extra">
                        {row.extra ?? (row.status === 'added' || row.status === 'removed' ? row.status : '')}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {section.code.map(change => (
              <div key={change.cell} className="jp-Lineage-code-change">
                <div className="jp-Lineage-code-cell">
                  cell {change.cell} · {change.status}
                </div>
                <pre className="jp-Lineage-code">
                  {change.lines.map((line, i) => (
                    <span key={i} className={`jp-Lineage-line jp-Lineage-line-${line.kind}`}>
                      {line.text + '\n'}
                    </span>
                  ))}
                </pre>
              </div>
            ))}
          </details>
        );
      })}
    </div>
  );
}

export function DiffView(props: { model: LineageModel; runs: IRunSummary[] }): JSX.Element {
  const { model, runs } = props;
  if (runs.length < 2) {
    return (
      <Message
        title="Two runs are needed to compare."
        hint="Run the notebook again (for example with another parameter: jupyter lineage run NOTEBOOK -p NAME VALUE), then pick the two runs here."
      />
    );
  }
  const [a, b] = model.pair ?? [runs[1].id, runs[0].id];
  const { data, error, loading } = model.diff;
  return (
    <div className="jp-Lineage-diff">
      <div className="jp-Lineage-pickers">
        <RunPicker label="Run A" value={a} runs={runs} onChange={id => model.setPair(id, b)} />
        <RunPicker label="Run B" value={b} runs={runs} onChange={id => model.setPair(a, id)} />
        <button className="jp-mod-styled" onClick={() => model.setPair(b, a)}>
          Swap
        </button>
      </div>
      {error && (
        <Message kind="error" title="Could not compare these runs." hint={errorAdvice(error)} />
      )}
      {loading && !data && <Message kind="loading" title="Comparing…" />}
      {data && <Sections diff={data} />}
    </div>
  );
}
