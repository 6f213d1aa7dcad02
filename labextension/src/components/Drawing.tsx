import * as React from 'react';

import { layout, type ILayout } from '../layout';
import { nodeLabel, nodeLines, staleHint, type ILabelContext } from '../labels';
import { drawnEdges, edgeKey, toElk, type IPath } from '../shape';
import type { GraphNode } from '../tokens';
import { Message } from './Message';

interface IView {
  x: number;
  y: number;
  k: number;
}

const PAD = 16;
/** Below this scale 12 px labels are too small to read: the first view never goes lower. */
export const LEGIBLE = 0.8;
const MIN_ZOOM = 0.02;
const MAX_ZOOM = 4;

/** The whole graph in the view (Fit), however small that makes it. */
function fitWhole(box: ILayout, width: number, height: number): IView {
  const kw = (width - 2 * PAD) / Math.max(1, box.width);
  const kh = (height - 2 * PAD) / Math.max(1, box.height);
  const k = Math.max(MIN_ZOOM, Math.min(1, kw, kh));
  return {
    k,
    x: Math.max(PAD, (width - box.width * k) / 2),
    y: Math.max(PAD, (height - box.height * k) / 2)
  };
}

/**
 * The first view, legible at first sight: the whole graph if it fits at a readable scale;
 * else its full width if that is readable (scroll down for the rest); else readable, around
 * the node that matters (the selection, else the focused run).
 */
function firstView(box: ILayout, width: number, height: number, anchor?: string | null): IView {
  const whole = fitWhole(box, width, height);
  if (whole.k >= LEGIBLE) {
    return whole;
  }
  const kw = Math.min(1, (width - 2 * PAD) / Math.max(1, box.width));
  const k = Math.max(LEGIBLE, kw);
  const b = anchor ? box.nodes.get(anchor) : undefined;
  const w = box.width * k;
  const h = box.height * k;
  let x = w <= width - 2 * PAD ? (width - w) / 2 : PAD;
  let y = PAD;
  if (b) {
    const cx = (b.x + b.width / 2) * k;
    const cy = (b.y + b.height / 2) * k;
    if (w > width - 2 * PAD) {
      x = Math.min(PAD, Math.max(width - PAD - w, width / 2 - cx));
    }
    y = Math.min(PAD, Math.max(height - PAD - h, height / 3 - cy));
  }
  return { k, x, y };
}

function pathOf(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x},${y}`).join(' ');
}

function nodeClasses(
  node: GraphNode,
  selected: string | null,
  path: IPath | null,
  found: Set<string> | null
): string {
  const dimmed = found ? !found.has(node.id) : path ? !path.nodes.has(node.id) : false;
  return [
    'jp-Lineage-node',
    `jp-Lineage-node-${node.type}`,
    node.type === 'artifact' ? `jp-Lineage-kind-${node.kind}` : '',
    (node.type === 'artifact' || node.type === 'execution') && node.stale ? 'jp-mod-stale' : '',
    node.type === 'execution' && node.error ? 'jp-mod-error' : '',
    node.type === 'run' ? `jp-Lineage-status-${node.status}` : '',
    selected === node.id ? 'jp-mod-selected' : '',
    path?.nodes.has(node.id) ? 'jp-mod-upstream' : '',
    found?.has(node.id) ? 'jp-mod-match' : '',
    dimmed ? 'jp-mod-dimmed' : ''
  ]
    .filter(Boolean)
    .join(' ');
}

export interface IDrawingHandle {
  fit(): void;
  zoom(factor: number): void;
  actualSize(): void;
  centre(id: string): void;
}

/** The lineage graph as SVG: ELK's layout, drag or scroll to pan, Ctrl+scroll to zoom. */
export const Drawing = React.forwardRef(function Drawing(
  props: {
    ctx: ILabelContext;
    selected: string | null;
    anchor: string | null;
    path: IPath | null;
    found: Set<string> | null;
    /** Many runs: laid out left to right and shown whole at first. */
    overview: boolean;
    onSelect: (id: string | null) => void;
  },
  ref: React.Ref<IDrawingHandle>
): JSX.Element {
  const { ctx, selected, path, found } = props;
  const graph = ctx.graph;
  const edges = React.useMemo(() => drawnEdges(graph), [graph]);
  const [box, setBox] = React.useState<ILayout | null>(null);
  const [failed, setFailed] = React.useState<string | null>(null);
  const [view, setView] = React.useState<IView>({ x: PAD, y: PAD, k: 1 });
  const host = React.useRef<HTMLDivElement>(null);
  const drag = React.useRef<{ x: number; y: number; view: IView } | null>(null);
  // how live redraws place the graph: the first view, whole (after Fit), or left where the
  // user panned or zoomed it
  const mode = React.useRef<'first' | 'whole' | 'user'>(props.overview ? 'whole' : 'first');
  const anchor = React.useRef(props.anchor);
  anchor.current = props.anchor;

  React.useEffect(() => {
    let live = true;
    layout(toElk(graph, node => nodeLines(ctx, node), props.overview ? 'RIGHT' : 'DOWN'))
      .then(result => {
        if (live) {
          setBox(result);
          setFailed(null);
        }
      })
      .catch(error => live && setFailed(String(error)));
    return () => {
      live = false;
    };
    // the layout depends on the graph only; labels change with time, boxes have slack
  }, [graph]);

  const size = (): [number, number] => {
    const el = host.current;
    return [el?.clientWidth || 600, el?.clientHeight || 400];
  };

  React.useLayoutEffect(() => {
    if (box && mode.current !== 'user') {
      const [w, h] = size();
      setView(mode.current === 'whole' ? fitWhole(box, w, h) : firstView(box, w, h, anchor.current));
    }
  }, [box]);

  const zoom = (factor: number, cx?: number, cy?: number): void => {
    mode.current = 'user';
    const [w, h] = size();
    const px = cx ?? w / 2;
    const py = cy ?? h / 2;
    setView(v => {
      const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.k * factor));
      return { k, x: px - ((px - v.x) * k) / v.k, y: py - ((py - v.y) * k) / v.k };
    });
  };

  React.useImperativeHandle(ref, () => ({
    fit: () => {
      if (box) {
        mode.current = 'whole';
        setView(fitWhole(box, ...size()));
      }
    },
    zoom: (factor: number) => zoom(factor),
    actualSize: () => zoom(1 / view.k),
    centre: (id: string) => {
      const b = box?.nodes.get(id);
      if (b) {
        mode.current = 'user';
        const [w, h] = size();
        const k = Math.max(view.k, LEGIBLE);
        setView({ k, x: w / 2 - (b.x + b.width / 2) * k, y: h / 2 - (b.y + b.height / 2) * k });
      }
    }
  }));

  if (failed) {
    return <Message kind="error" title="Could not lay out the graph." hint={failed} />;
  }
  if (!box) {
    return <Message kind="loading" title="Laying out the graph…" />;
  }

  return (
    <div
      ref={host}
      className="jp-Lineage-canvas"
      title="Drag or scroll to pan; Ctrl+scroll to zoom"
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
      <svg
        className="jp-Lineage-svg"
        role="img"
        aria-label="Lineage graph"
        data-scale={view.k.toFixed(3)}
      >
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
          {edges.map(edge => {
            const key = edgeKey(edge);
            const points = box.edges.get(key);
            if (!points || points.length < 2) {
              return null;
            }
            const on = path?.edges.has(key);
            const state = on ? ' jp-mod-upstream' : path || found ? ' jp-mod-dimmed' : '';
            const line = (
              <path
                key={key}
                d={pathOf(points)}
                data-edge={key}
                className={`jp-Lineage-edge jp-Lineage-edge-${edge.type}${state}`}
                markerEnd="url(#jp-Lineage-arrow)"
              />
            );
            if (edge.type !== 'flow' || !edge.names?.length) {
              return line;
            }
            // the variables that link two cells, at the middle of the edge
            const [x, y] = points[Math.floor((points.length - 1) / 2)];
            const [x2, y2] = points[Math.floor((points.length - 1) / 2) + 1];
            return (
              <g key={key}>
                {line}
                <text
                  className={`jp-Lineage-edge-label${state}`}
                  x={(x + x2) / 2 + 4}
                  y={(y + y2) / 2}
                  dominantBaseline="central"
                >
                  {edge.names.join(', ')}
                </text>
              </g>
            );
          })}
          {graph.nodes.map(node => {
            const b = box.nodes.get(node.id);
            if (!b) {
              return null;
            }
            const [first, second] = nodeLines(ctx, node);
            const top = second ? b.height / 2 - 8 : b.height / 2;
            return (
              <g
                key={node.id}
                className={nodeClasses(node, selected, path, found)}
                data-node-id={node.id}
                data-node-type={node.type}
                data-name={node.type === 'artifact' ? node.name : undefined}
                transform={`translate(${b.x},${b.y})`}
                role="button"
                tabIndex={0}
                aria-label={nodeLabel(ctx, node)}
                onMouseDown={event => event.stopPropagation()}
                onClick={() => props.onSelect(selected === node.id ? null : node.id)}
                onKeyDown={event => {
                  if (event.key === 'Enter' || event.key === ' ') {
                    props.onSelect(node.id);
                  }
                }}
              >
                <title>
                  {node.type === 'artifact'
                    ? node.path
                    : node.type === 'execution'
                      ? node.source
                      : node.id}
                </title>
                <rect width={b.width} height={b.height} rx={node.type === 'artifact' ? 4 : 12} />
                <text x={10} y={top} dominantBaseline="central">
                  {first}
                </text>
                {second && (
                  <text className="jp-Lineage-node-sub" x={10} y={top + 16} dominantBaseline="central">
                    {second}
                  </text>
                )}
                {(node.type === 'artifact' || node.type === 'execution') && node.stale && (
                  <text className="jp-Lineage-stale-badge" x={b.width - 6} y={-4} textAnchor="end">
                    <title>{staleHint(node)}</title>
                    stale
                  </text>
                )}
              </g>
            );
          })}
        </g>
      </svg>
    </div>
  );
});
