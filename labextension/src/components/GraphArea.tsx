import * as React from 'react';

import { errorAdvice } from '../labels';
import type { LineageModel } from '../model';
import type { IGraph } from '../tokens';
import { Drawing, type IDrawingHandle } from './Drawing';
import { FocusPicker, RunsShown, SearchBox, focusName, useGraphState } from './GraphTools';
import { Message, START_HINT } from './Message';
import { PanelHeader } from './PanelHeader';
import { NodeDetails } from './NodeDetails';

function Loaded(props: { model: LineageModel; data: IGraph }): JSX.Element {
  const { model, data } = props;
  const graph = model.graph;
  const { ctx, path, found, selected } = useGraphState(model, data);
  const drawing = React.useRef<IDrawingHandle>(null);
  const next = React.useRef(0);
  const hits = found ? data.nodes.filter(n => found.has(n.id)) : [];
  const showNext = (): void => {
    if (hits.length) {
      const node = hits[next.current++ % hits.length];
      drawing.current?.centre(node.id);
      graph.select(node.id);
    }
  };
  return (
    <>
      <div className="jp-Lineage-toolbar" role="toolbar" aria-label="Graph tools">
        <FocusPicker graph={graph} runs={model.runs.data ?? []} artifactName={focusName(model, ctx)} />
        <SearchBox graph={graph} count={found ? found.size : null} onNext={showNext} />
        <span className="jp-Lineage-toolbar-group">
          <button className="jp-mod-styled" title="Zoom out" onClick={() => drawing.current?.zoom(0.8)}>
            −
          </button>
          <button className="jp-mod-styled" title="Zoom in" onClick={() => drawing.current?.zoom(1.25)}>
            +
          </button>
          <button className="jp-mod-styled" title="Fit the whole graph" onClick={() => drawing.current?.fit()}>
            Fit
          </button>
          <button className="jp-mod-styled" title="Actual size" onClick={() => drawing.current?.actualSize()}>
            100%
          </button>
        </span>
        {graph.selected && (
          <button className="jp-mod-styled" onClick={() => graph.select(null)}>
            Clear selection
          </button>
        )}
        <RunsShown graph={graph} data={data} />
        {model.graph.graph.loading && <span className="jp-Lineage-busy">updating…</span>}
      </div>
      {data.nodes.length === 0 ? (
        <Message
          title="Nothing recorded was read or written yet."
          hint="Files and URLs the notebook reads and writes appear here as soon as a cell touches them."
        />
      ) : (
        <div className="jp-Lineage-graph-body">
          <Drawing
            key={JSON.stringify([graph.focus, graph.expandedRun, graph.limit])}
            ref={drawing}
            ctx={ctx}
            selected={graph.selected}
            anchor={graph.selected ?? graph.expandedRun}
            path={path}
            found={found}
            overview={graph.focus.kind === 'all'}
            onSelect={id => graph.select(id)}
          />
          {selected && <NodeDetails node={selected} ctx={ctx} model={model} />}
        </div>
      )}
    </>
  );
}

/** The main-area graph: the lineage of what the user is looking at, drawn large. */
export function GraphArea(props: { model: LineageModel }): JSX.Element {
  const { model } = props;
  const path = model.notebookPath;
  const { data, error, loading } = model.graph.graph;
  let body: JSX.Element;
  if (path === null) {
    body = (
      <Message
        title="Open a notebook to see its lineage."
        hint="The graph follows the notebook you are working in."
      />
    );
  } else if (model.runs.error) {
    body =
      model.runs.error.code === 'store_missing' ? (
        <Message title="No lineage recorded for this notebook yet." hint={START_HINT} />
      ) : (
        <Message
          kind="error"
          title="Could not load the runs of this notebook."
          hint={errorAdvice(model.runs.error)}
          action={{ label: 'Retry', onClick: () => void model.refresh(true) }}
        />
      );
  } else if (model.runs.data && model.runs.data.length === 0) {
    body = <Message title="No runs recorded for this notebook yet." hint={START_HINT} />;
  } else if (error && !data) {
    body = (
      <Message
        kind="error"
        title="Could not load the lineage graph."
        hint={errorAdvice(error)}
        action={{ label: 'Retry', onClick: () => void model.graph.load(true) }}
      />
    );
  } else if (!data) {
    body = <Message kind="loading" title={loading ? 'Loading the graph…' : 'Waiting for the runs…'} />;
  } else {
    body = <Loaded model={model} data={data} />;
  }
  return (
    <div className="jp-Lineage jp-Lineage-graph-area">
      <PanelHeader title="Lineage graph" model={model} />
      {body}
    </div>
  );
}
