import * as React from 'react';

import { layout, type ILayout } from '../layout';
import type { LineageModel } from '../model';
import { edgeKey, nodeDetails, nodeLabel, toElk, upstream } from '../shape';
import type { GraphNode, IGraph } from '../tokens';
import { Message } from './Message';

interface IView {
  x: number;
  y: number;
  k: number;
}

const PAD = 16;

/** The whole graph in the panel (`whole`), or its width only, top first (the first view). */
function fit(box: ILayout, width: number, height: number, whole: boolean): IView {
  const kw = (width - 2 * PAD) / Math.max(1, box.width);
  const kh = (height - 2 * PAD) / Math.max(1, box.height);
  const k = Math.max(0.1, Math.min(1, kw, whole ? kh : Infinity));
  return {
    k,
    x: Math.max(PAD, (width - box.width * k) / 2),
    y: whole ? Math.max(PAD, (height - box.height * k) / 2) : PAD
  };
}

function pathOf(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x},${y}`).join(' ');
}

function Details(props: { node: GraphNode; model: LineageModel }): JSX.Element {
  const { node, model } = props;
  const rows = nodeDetails(node);
  return (
    <div className="jp-Lineage-details" aria-label="Node details">
      <div className="jp-Lineage-details-title">
        {node.type === 'artifact' ? `${node.kind} · ${node.name}` : nodeLabel(node)}
      </div>
      <dl>
        {rows.map(([label, value]) => (
          <React.Fragment key={label}>
            <dt>{label}</dt>
            <dd className={label === 'Source' ? 'jp-Lineage-source' : undefined}>{value}</dd>
          </React.Fragment>
        ))}
      </dl>
      <div className="jp-Lineage-details-actions">
        {node.type === 'execution' && model.hasCell(node.cell_id) && (
          <button
            className="jp-mod-styled jp-mod-accept"
            onClick={() => node.cell_id && model.goToCell(node.cell_id)}
          >
            Go to cell
          </button>
        )}
        {node.type === 'run' && model.expanded !== node.id && (
          <button className="jp-mod-styled" onClick={() => model.expand(node.id)}>
            Show its cells
          </button>
        )}
      </div>
    </div>
  );
}

function Drawing(props: { graph: IGraph; model: LineageModel }): JSX.Element {
  const { graph, model } = props;
  const [box, setBox] = React.useState<ILayout | null>(null);
  const [failed, setFailed] = React.useState<string | null>(null);
  const [view, setView] = React.useState<IView>({ x: PAD, y: PAD, k: 1 });
  const host = React.useRef<HTMLDivElement>(null);
  const drag = React.useRef<{ x: number; y: number; view: IView } | null>(null);
  // how live redraws place the graph: fitted to the width (first view), whole (after Fit), or
  // left where the user panned or zoomed it
  const mode = React.useRef<'width' | 'whole' | 'user'>('width');

  React.useEffect(() => {
    let live = true;
    layout(toElk(graph))
      .then(result => {
        if (!live) {
          return;
        }
        setBox(result);
        setFailed(null);
      })
      .catch(error => live && setFailed(String(error)));
    return () => {
      live = false;
    };
  }, [graph]);

  React.useLayoutEffect(() => {
    const el = host.current;
    if (box && el && mode.current !== 'user') {
      setView(fit(box, el.clientWidth || 300, el.clientHeight || 300, mode.current === 'whole'));
    }
  }, [box]);

  const path = React.useMemo(
    () => (model.selected ? upstream(graph, model.selected) : null),
    [graph, model.selected]
  );

  if (failed) {
    return <Message kind="error" title="Could not lay out the graph." hint={failed} />;
  }
  if (!box) {
    return <Message kind="loading" title="Laying out the graph…" />;
  }

  const zoom = (factor: number, cx?: number, cy?: number): void => {
    mode.current = 'user';
    const el = host.current;
    const px = cx ?? (el ? el.clientWidth / 2 : 0);
    const py = cy ?? (el ? el.clientHeight / 2 : 0);
    setView(v => {
      const k = Math.min(4, Math.max(0.1, v.k * factor));
      return { k, x: px - ((px - v.x) * k) / v.k, y: py - ((py - v.y) * k) / v.k };
    });
  };

  const byId = new Map(graph.nodes.map(n => [n.id, n]));
  const selected = model.selected ? byId.get(model.selected) : undefined;
  return (
    <div className="jp-Lineage-graph">
      <div className="jp-Lineage-toolbar" role="toolbar" aria-label="Graph tools" title="Drag or scroll to pan; Ctrl+scroll to zoom">
        <button className="jp-mod-styled" title="Zoom in" onClick={() => zoom(1.25)}>
          +
        </button>
        <button className="jp-mod-styled" title="Zoom out" onClick={() => zoom(0.8)}>
          −
        </button>
        <button
          className="jp-mod-styled"
          title="Fit the graph to the panel"
          onClick={() => {
            mode.current = 'whole';
            if (host.current) {
              setView(fit(box, host.current.clientWidth, host.current.clientHeight, true));
            }
          }}
        >
          Fit
        </button>
        {model.selected && (
          <button className="jp-mod-styled" onClick={() => model.select(null)}>
            Clear selection
          </button>
        )}
      </div>
      <div
        ref={host}
        className="jp-Lineage-canvas"
        onWheel={event => {
          if (event.ctrlKey || event.metaKey) {
            const rect = (event.currentTarget as HTMLDivElement).getBoundingClientRect();
            zoom(event.deltaY < 0 ? 1.1 : 1 / 1.1, event.clientX - rect.left, event.clientY - rect.top);
          } else {
            mode.current = 'user';
            setView(v => ({ ...v, x: v.x - event.deltaX, y: v.y - event.deltaY }));
          }
        }}
        onMouseDown={event => {
          drag.current = { x: event.clientX, y: event.clientY, view };
        }}
        onMouseMove={event => {
          const d = drag.current;
          if (d) {
            mode.current = 'user';
            setView({ ...d.view, x: d.view.x + event.clientX - d.x, y: d.view.y + event.clientY - d.y });
          }
        }}
        onMouseUp={() => (drag.current = null)}
        onMouseLeave={() => (drag.current = null)}
      >
        <svg className="jp-Lineage-svg" role="img" aria-label="Lineage graph">
          <defs>
            <marker
              id="jp-Lineage-arrow"
              viewBox="0 0 10 10"
              refX="10"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" className="jp-Lineage-arrowhead" />
            </marker>
          </defs>
          <g transform={`translate(${view.x},${view.y}) scale(${view.k})`}>
            {graph.edges.map(edge => {
              const key = edgeKey(edge);
              const points = box.edges.get(key);
              if (!points || points.length < 2) {
                return null;
              }
              const on = path?.edges.has(key);
              return (
                <path
                  key={key}
                  d={pathOf(points)}
                  data-edge={key}
                  className={`jp-Lineage-edge jp-Lineage-edge-${edge.type}${
                    on ? ' jp-mod-upstream' : path ? ' jp-mod-dimmed' : ''
                  }`}
                  markerEnd="url(#jp-Lineage-arrow)"
                />
              );
            })}
            {graph.nodes.map(node => {
              const b = box.nodes.get(node.id);
              if (!b) {
                return null;
              }
              const classes = [
                'jp-Lineage-node',
                `jp-Lineage-node-${node.type}`,
                node.type === 'artifact' ? `jp-Lineage-kind-${node.kind}` : '',
                node.type === 'artifact' && node.stale ? 'jp-mod-stale' : '',
                node.type === 'execution' && node.error ? 'jp-mod-error' : '',
                node.type === 'run' ? `jp-Lineage-status-${node.status}` : '',
                model.selected === node.id ? 'jp-mod-selected' : '',
                path ? (path.nodes.has(node.id) ? 'jp-mod-upstream' : 'jp-mod-dimmed') : ''
              ]
                .filter(Boolean)
                .join(' ');
              const label = nodeLabel(node);
              return (
                <g
                  key={node.id}
                  className={classes}
                  data-node-id={node.id}
                  data-node-type={node.type}
                  transform={`translate(${b.x},${b.y})`}
                  role="button"
                  tabIndex={0}
                  aria-label={label}
                  onMouseDown={event => event.stopPropagation()}
                  onClick={() => model.select(model.selected === node.id ? null : node.id)}
                  onKeyDown={event => {
                    if (event.key === 'Enter' || event.key === ' ') {
                      model.select(node.id);
                    }
                  }}
                >
                  <title>{node.type === 'artifact' ? node.path : node.type === 'execution' ? node.source : node.id}</title>
                  <rect width={b.width} height={b.height} rx={node.type === 'artifact' ? 4 : 12} />
                  <text x={10} y={b.height / 2} dominantBaseline="central">
                    {label}
                  </text>
                  {node.type === 'artifact' && node.stale && (
                    <text className="jp-Lineage-stale-badge" x={b.width - 6} y={-4} textAnchor="end">
                      stale
                    </text>
                  )}
                </g>
              );
            })}
          </g>
        </svg>
      </div>
      {selected && <Details node={selected} model={model} />}
    </div>
  );
}

export function GraphView(props: { model: LineageModel }): JSX.Element {
  const { data, error, loading } = props.model.graph;
  if (error && !data) {
    return (
      <Message
        kind="error"
        title="Could not load the lineage graph."
        hint={error.message}
        action={{ label: 'Retry', onClick: () => void props.model.loadGraph(true) }}
      />
    );
  }
  if (!data) {
    return <Message kind="loading" title={loading ? 'Loading the graph…' : 'No graph yet.'} />;
  }
  if (data.nodes.length === 0) {
    return (
      <Message
        title="Nothing recorded was read or written yet."
        hint="Files and URLs the notebook reads and writes appear here as soon as a cell touches them."
      />
    );
  }
  return <Drawing graph={data} model={props.model} />;
}
