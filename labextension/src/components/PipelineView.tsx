import * as React from 'react';

import { errorAdvice } from '../labels';
import type { LineageModel } from '../model';
import { formatMapping, formatWhen, shortId } from '../shape';
import type { IPipeline, IStage } from '../tokens';
import { Message } from './Message';

function StageCard(props: {
  stage: IStage;
  names: Map<string, string>;
  current: boolean;
}): JSX.Element {
  const { stage, names, current } = props;
  const params = formatMapping(stage.parameters);
  const state = stage.stale ? 'stale' : 'up to date';
  return (
    <li
      className={`jp-Lineage-stage${stage.stale ? ' jp-mod-stale' : ''}${current ? ' jp-mod-current' : ''}`}
      data-name={stage.name}
      aria-label={`${stage.name}: ${state}`}
    >
      <div className="jp-Lineage-stage-head">
        <span className="jp-Lineage-stage-name" title={stage.path}>
          {stage.name}
        </span>
        <span
          className={`jp-Lineage-stage-state jp-Lineage-stage-state-${stage.stale ? 'stale' : 'fresh'}`}
          title={stage.stale ? 'jupyter lineage repro re-runs it' : 'Nothing changed since its run'}
        >
          {state}
        </span>
      </div>
      <div className="jp-Lineage-stage-meta jp-Lineage-ellipsis">
        run {shortId(stage.run)}
        {stage.run_kind === 'cached' ? ' (cached)' : ''} · {formatWhen(stage.started)}
        {params ? ` · ${params}` : ''}
      </div>
      {stage.stale && (
        <ul className="jp-Lineage-stage-reasons" aria-label="Why it is stale">
          {stage.reasons.map((reason, i) => (
            <li key={i}>{reason.text}</li>
          ))}
        </ul>
      )}
      <ul className="jp-Lineage-stage-files" aria-label="Files">
        {stage.deps.map(dep => (
          <li key={`r${dep.path}`} title={dep.path}>
            <span className="jp-Lineage-stage-role">reads</span> {dep.name}
            {dep.stage ? (
              <span className="jp-Lineage-stage-link"> ← {names.get(dep.stage) ?? dep.stage}</span>
            ) : null}
          </li>
        ))}
        {stage.outs.map(out => (
          <li key={`w${out.path}`} title={out.path}>
            <span className="jp-Lineage-stage-role">writes</span> {out.name}
            {out.stages.length > 0 ? (
              <span className="jp-Lineage-stage-link">
                {' '}
                → {out.stages.map(s => names.get(s) ?? s).join(', ')}
              </span>
            ) : null}
          </li>
        ))}
      </ul>
    </li>
  );
}

function Stages(props: { pipeline: IPipeline; notebook: string | null }): JSX.Element {
  const { pipeline, notebook } = props;
  const names = new Map(pipeline.stages.map(s => [s.path, s.name]));
  const stale = pipeline.stale.length;
  return (
    <>
      <p className="jp-Lineage-pipeline-summary" aria-label="Pipeline summary">
        {pipeline.stages.length} stages in run order ·{' '}
        {stale ? `${stale} stale: jupyter lineage repro re-runs them` : 'all up to date'}
      </p>
      <ol className="jp-Lineage-stages" aria-label="Pipeline stages">
        {pipeline.stages.map(stage => (
          <StageCard
            key={stage.path}
            stage={stage}
            names={names}
            current={notebook !== null && stage.path.endsWith(`/${notebook}`)}
          />
        ))}
      </ol>
    </>
  );
}

/** The Pipeline tab: the notebooks of the store as one pipeline, stale stages marked. */
export function PipelineView(props: { model: LineageModel }): JSX.Element {
  const { model } = props;
  const { data, error, loading } = model.pipeline.pipeline;
  if (error) {
    return error.code === 'store_missing' ? (
      <Message
        title="No lineage recorded here yet."
        hint="Notebooks that write files other notebooks read become the stages of a pipeline here."
      />
    ) : (
      <Message
        kind="error"
        title="Could not infer the pipeline."
        hint={errorAdvice(error)}
        action={{ label: 'Retry', onClick: () => void model.pipeline.load(true) }}
      />
    );
  }
  if (!data) {
    return <Message kind="loading" title={loading ? 'Inferring the pipeline…' : 'Waiting…'} />;
  }
  if (data.stages.length === 0) {
    return (
      <Message
        title="No pipeline yet."
        hint={
          <>
            Each notebook with a successful run is a stage; run them with{' '}
            <code>jupyter lineage run NOTEBOOK</code>.
          </>
        }
      />
    );
  }
  return (
    <div className="jp-Lineage-pipeline-view">
      <Stages pipeline={data} notebook={model.notebookPath} />
    </div>
  );
}
