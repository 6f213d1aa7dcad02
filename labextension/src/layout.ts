/** Graph layout with ELK in a Web Worker (main-thread fallback where workers fail). */
import ELK from 'elkjs/lib/elk-api.js';
import type { ElkNode } from 'elkjs/lib/elk-api.js';

import type { IElkGraph } from './shape';

export interface IBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ILayout {
  nodes: Map<string, IBox>;
  edges: Map<string, [number, number][]>;
  width: number;
  height: number;
}

let elk: { layout(graph: ElkNode): Promise<ElkNode> } | null = null;

async function engine(): Promise<{ layout(graph: ElkNode): Promise<ElkNode> }> {
  if (elk) {
    return elk;
  }
  try {
    elk = new ELK({
      workerFactory: () => new Worker(new URL('./layout.worker.js', import.meta.url))
    });
  } catch (error) {
    console.warn('jupyter-lineage: layout worker unavailable, laying out on the main thread', error);
    const { default: Bundled } = await import('elkjs/lib/elk.bundled.js');
    elk = new Bundled();
  }
  return elk;
}

export async function layout(graph: IElkGraph): Promise<ILayout> {
  const result = await (await engine()).layout(graph as unknown as ElkNode);
  const nodes = new Map<string, IBox>();
  for (const child of result.children ?? []) {
    nodes.set(child.id, {
      x: child.x ?? 0,
      y: child.y ?? 0,
      width: child.width ?? 0,
      height: child.height ?? 0
    });
  }
  const edges = new Map<string, [number, number][]>();
  for (const edge of result.edges ?? []) {
    const points: [number, number][] = [];
    for (const section of (edge as { sections?: any[] }).sections ?? []) {
      points.push([section.startPoint.x, section.startPoint.y]);
      for (const bend of section.bendPoints ?? []) {
        points.push([bend.x, bend.y]);
      }
      points.push([section.endPoint.x, section.endPoint.y]);
    }
    edges.set(edge.id, points);
  }
  return { nodes, edges, width: result.width ?? 0, height: result.height ?? 0 };
}
