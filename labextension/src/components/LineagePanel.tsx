import * as React from 'react';

import { errorAdvice } from '../labels';
import type { LineageModel } from '../model';
import type { Tab } from '../tokens';
import { DiffView } from './DiffView';
import { GraphView } from './GraphView';
import { Message, START_HINT } from './Message';
import { PanelHeader } from './PanelHeader';
import { ModelsView } from './ModelsView';
import { PipelineView } from './PipelineView';
import { RunsView } from './RunsView';

const TABS: [Tab, string][] = [
  ['runs', 'Runs'],
  ['graph', 'Graph'],
  ['diff', 'Diff'],
  ['models', 'Models'],
  ['pipeline', 'Pipeline']
];

function Body(props: { model: LineageModel }): JSX.Element {
  const { model } = props;
  const { data: runs, error, loading } = model.runs;
  if (model.notebookPath === null) {
    return (
      <Message
        title="Open a notebook to see its lineage."
        hint="The Lineage panel follows the notebook you are working in: its runs, what they read and wrote, and how two runs differ."
      />
    );
  }
  if (model.tab === 'models') {
    return <ModelsView model={model} />;
  }
  if (model.tab === 'pipeline') {
    return <PipelineView model={model} />;
  }
  if (error) {
    if (error.code === 'store_missing') {
      return <Message title="No lineage recorded for this notebook yet." hint={START_HINT} />;
    }
    return (
      <Message
        kind="error"
        title="Could not load the runs of this notebook."
        hint={errorAdvice(error)}
        action={{ label: 'Retry', onClick: () => void model.refresh(true) }}
      />
    );
  }
  if (!runs) {
    return <Message kind="loading" title={loading ? 'Loading runs…' : 'Waiting…'} />;
  }
  if (runs.length === 0) {
    return <Message title="No runs recorded for this notebook yet." hint={START_HINT} />;
  }
  switch (model.tab) {
    case 'runs':
      return <RunsView model={model} runs={runs} />;
    case 'graph':
      return <GraphView model={model} />;
    case 'diff':
      return <DiffView model={model} runs={runs} />;
    default:
      return <ModelsView model={model} />;
  }
}

export function LineagePanel(props: { model: LineageModel }): JSX.Element {
  const { model } = props;
  return (
    <div className="jp-Lineage">
      <PanelHeader title="Lineage" model={model} />
      <div className="jp-Lineage-tabs" role="tablist" aria-label="Lineage views">
        {TABS.map(([tab, label]) => (
          <button
            key={tab}
            role="tab"
            aria-selected={model.tab === tab}
            className={`jp-Lineage-tab${model.tab === tab ? ' jp-mod-active' : ''}`}
            onClick={() => model.setTab(tab)}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="jp-Lineage-body" role="tabpanel">
        <Body model={model} />
      </div>
    </div>
  );
}
