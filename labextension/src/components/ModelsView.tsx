import * as React from 'react';

import type { CatalogueModel } from '../catalogue';
import { errorAdvice, formatMetrics } from '../labels';
import type { LineageModel } from '../model';
import {
  basename,
  dirname,
  formatMapping,
  formatWhen,
  relativePath,
  shortHash,
  shortId
} from '../shape';
import type { IModelDetail, IModelVersion } from '../tokens';
import { Message } from './Message';

const STATE_TITLE: Record<string, string> = {
  current: 'The file on disk is this version.',
  replaced: 'The file on disk is another version now.',
  missing: 'The file is no longer on disk.',
  remote: 'A remote object.'
};

function Badges(props: { version: IModelVersion }): JSX.Element {
  const { version } = props;
  return (
    <span className="jp-Lineage-model-badges">
      {version.tags.map(tag => (
        <span key={tag} className="jp-Lineage-model-tag" title={`Tag ${tag} (jupyter lineage tag)`}>
          {tag}
        </span>
      ))}
      <span
        className={`jp-Lineage-model-state jp-Lineage-model-state-${version.state}`}
        title={STATE_TITLE[version.state] ?? version.state}
      >
        {version.state}
      </span>
      {version.stale && (
        <span
          className="jp-Lineage-model-stale"
          title={`Changed since: ${version.changed_inputs.map(p => basename(p)).join(', ')}. `
            + 'Re-run its notebook to refresh it.'}
        >
          stale
        </span>
      )}
    </span>
  );
}

function Detail(props: { detail: IModelDetail; folder: string }): JSX.Element {
  const { detail, folder } = props;
  const env = detail.environment;
  return (
    <dl className="jp-Lineage-model-detail" aria-label="Model details">
      <dt>run</dt>
      <dd>
        {detail.run.id} · {detail.run.status} · {detail.run.kind} ·{' '}
        {basename(detail.run.notebook)}, cell {detail.execution.seq}
      </dd>
      <dt>parameters</dt>
      <dd>{formatMapping(detail.parameters) || '—'}</dd>
      <dt>inputs</dt>
      <dd>
        <ul>
          {detail.inputs.map(input => (
            <li key={input.path} title={input.path}>
              {relativePath(input.path, folder)} @ {shortHash(input.hash)}
            </li>
          ))}
          {detail.inputs.length === 0 && <li>—</li>}
        </ul>
      </dd>
      <dt>environment</dt>
      <dd>
        Python {env.python ?? '?'} · {env.packages} packages
      </dd>
      <dt>versions</dt>
      <dd>
        <ol aria-label="Versions">
          {detail.versions.map(v => (
            <li key={v.hash} className={v.hash === detail.hash ? 'jp-mod-current' : ''}>
              {shortHash(v.hash)} · {formatWhen(v.written)} · run {shortId(v.run)}
              {v.tags.length > 0 && ` · ${v.tags.join(', ')}`}
            </li>
          ))}
        </ol>
      </dd>
    </dl>
  );
}

function Version(props: { version: IModelVersion; catalogue: CatalogueModel }): JSX.Element {
  const { version, catalogue } = props;
  // paths as the writing notebook's folder sees them (out/model.joblib)
  const folder = dirname(version.run.notebook);
  const open = catalogue.open === version.artifact;
  const { data: detail, error, loading } = catalogue.detail;
  const name = basename(version.path);
  return (
    <li
      className={`jp-Lineage-model${open ? ' jp-mod-open' : ''}`}
      data-name={name}
      data-hash={shortHash(version.hash)}
    >
      <button
        className="jp-Lineage-model-head"
        aria-expanded={open}
        aria-label={`${name} ${shortHash(version.hash)}`}
        title={version.path}
        onClick={() => catalogue.toggle(version.artifact)}
      >
        <span className="jp-Lineage-model-title">
          <span className="jp-Lineage-model-name">{relativePath(version.path, folder)}</span>
          <code className="jp-Lineage-model-hash">{shortHash(version.hash)}</code>
          <Badges version={version} />
        </span>
        <span className="jp-Lineage-model-meta jp-Lineage-ellipsis">
          run {shortId(version.run.id)} · {basename(version.run.notebook)} ·{' '}
          {formatWhen(version.written)}
        </span>
        <span className="jp-Lineage-model-metrics jp-Lineage-ellipsis">
          {formatMetrics(version.metrics) || 'no metrics'}
        </span>
      </button>
      {open && detail && detail.artifact === version.artifact && (
        <Detail detail={detail} folder={folder} />
      )}
      {open && loading && <Message kind="loading" title="Loading its details…" />}
      {open && error && (
        <Message kind="error" title="Could not load this version." hint={errorAdvice(error)} />
      )}
    </li>
  );
}

/** The Models tab: every model version in the store, newest first, with its maker. */
export function ModelsView(props: { model: LineageModel }): JSX.Element {
  const { model } = props;
  const catalogue = model.catalogue;
  const { data: versions, error, loading } = catalogue.versions;
  let body: JSX.Element;
  if (error) {
    body =
      error.code === 'store_missing' ? (
        <Message
          title="No lineage recorded here yet."
          hint="Models a tracked notebook saves are listed here."
        />
      ) : (
        <Message
          kind="error"
          title="Could not load the models."
          hint={errorAdvice(error)}
          action={{ label: 'Retry', onClick: () => void catalogue.load(true) }}
        />
      );
  } else if (!versions) {
    body = <Message kind="loading" title={loading ? 'Loading models…' : 'Waiting…'} />;
  } else if (versions.length === 0) {
    body = (
      <Message
        title={
          catalogue.tag
            ? `No model version holds the tag ${catalogue.tag}.`
            : 'No model recorded yet.'
        }
        hint={
          <>
            A tracked notebook that saves a model (joblib, pickle, ONNX, torch, …) puts it here;{' '}
            <code>jupyter lineage tag PATH production</code> names a version.
          </>
        }
      />
    );
  } else {
    body = (
      <ul className="jp-Lineage-models" aria-label="Model versions">
        {versions.map(v => (
          <Version key={v.artifact} version={v} catalogue={catalogue} />
        ))}
      </ul>
    );
  }
  return (
    <div className="jp-Lineage-models-view">
      <div className="jp-Lineage-models-tools">
        <label>
          Tag{' '}
          <select
            className="jp-mod-styled"
            aria-label="Only versions with the tag"
            value={catalogue.tag}
            onChange={event => catalogue.setTag(event.target.value)}
          >
            <option value="">all versions</option>
            {catalogue.tags.map(tag => (
              <option key={tag} value={tag}>
                {tag}
              </option>
            ))}
          </select>
        </label>
      </div>
      {body}
    </div>
  );
}
