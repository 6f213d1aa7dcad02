import * as React from 'react';

/** Empty, loading and error states: what is going on and what to do about it. */
export function Message(props: {
  title: string;
  hint?: React.ReactNode;
  kind?: 'empty' | 'error' | 'loading';
  action?: { label: string; onClick: () => void };
}): JSX.Element {
  const kind = props.kind ?? 'empty';
  return (
    <div
      className={`jp-Lineage-message jp-Lineage-message-${kind}`}
      role={kind === 'error' ? 'alert' : 'status'}
    >
      <p className="jp-Lineage-message-title">{props.title}</p>
      {props.hint && <p className="jp-Lineage-message-hint">{props.hint}</p>}
      {props.action && (
        <button className="jp-mod-styled jp-mod-accept" onClick={props.action.onClick}>
          {props.action.label}
        </button>
      )}
    </div>
  );
}

export const START_HINT = (
  <>
    Run <code>%load_ext jupyter_lineage</code> in this notebook to start tracking, or run it as
    a pipeline with <code>jupyter lineage run NOTEBOOK</code>.
  </>
);
