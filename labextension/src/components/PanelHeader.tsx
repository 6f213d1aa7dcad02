import * as React from 'react';

import type { LineageModel } from '../model';
import { basename } from '../shape';

/** The title naming the open notebook, and the refresh button: the sidebar and the graph area. */
export function PanelHeader(props: { title: string; model: LineageModel }): JSX.Element {
  const { title, model } = props;
  const path = model.notebookPath;
  return (
    <header className="jp-Lineage-header">
      <h2 className="jp-Lineage-title" title={path ?? ''}>
        {title}
        {path ? ` · ${basename(path)}` : ''}
      </h2>
      <button
        className="jp-Lineage-refresh jp-mod-styled"
        title="Refresh"
        aria-label="Refresh"
        onClick={() => void model.refresh(true)}
      >
        ⟳
      </button>
    </header>
  );
}
