/**
 * The graph's state, shared by the sidebar's compact view and the main-area graph: what it
 * is focused on (the newest run by default), the loaded graph, the selected node and the
 * search. The lineage model owns it and tells it when the runs changed.
 */
import { asApiError, idle, requestAPI, type ILoad, type Query } from './api';
import type { LineageModel } from './model';
import type { Focus, IGraph } from './tokens';

/** How many runs "all runs" draws at first, and how many more each "Show more" adds. */
export const GRAPH_PAGE = 50;
/** The most runs one graph answer holds (the REST API's bound). */
export const GRAPH_MAX = 200;

export class GraphModel {
  focus: Focus = { kind: 'latest' };
  /** In the all-runs view: the run drawn with its cells (null: the newest). */
  expanded: string | null = null;
  limit = GRAPH_PAGE;
  graph: ILoad<IGraph> = idle();
  selected: string | null = null;
  query = '';

  private _key = '';

  constructor(private readonly lineage: LineageModel) {}

  /** The notebook's newest run. */
  get latest(): string | null {
    return this.lineage.runs.data?.[0]?.id ?? null;
  }

  /** The run drawn with its cells. */
  get expandedRun(): string | null {
    switch (this.focus.kind) {
      case 'latest':
        return this.latest;
      case 'run':
        return this.focus.id;
      case 'artifact':
        return this.focus.run;
      case 'all':
        return this.expanded ?? this.latest;
    }
  }

  reset(): void {
    this.focus = { kind: 'latest' };
    this.expanded = this.selected = null;
    this.limit = GRAPH_PAGE;
    this.query = '';
    this.graph = idle();
    this._key = '';
  }

  /** Show another lineage; `selected` is the node to select in it. */
  setFocus(focus: Focus, selected: string | null = null): void {
    this.focus = focus;
    this.selected = focus.kind === 'artifact' ? focus.id : selected;
    if (focus.kind !== 'all') {
      this.limit = GRAPH_PAGE;
    }
    this.lineage.emit();
    void this.load();
  }

  showMore(): void {
    this.limit = Math.min(GRAPH_MAX, this.limit + GRAPH_PAGE);
    void this.load();
  }

  /** In the all-runs view: draw this run with its cells. */
  expand(runId: string): void {
    this.expanded = runId;
    void this.load();
  }

  select(id: string | null): void {
    this.selected = id;
    this.lineage.emit();
  }

  setQuery(query: string): void {
    this.query = query;
    this.lineage.emit();
  }

  /** The request for the focus (null while the newest run is not known yet). */
  private request(): Query | null {
    const expand = this.expandedRun ?? '';
    switch (this.focus.kind) {
      case 'latest':
        return this.latest ? { run: this.latest, expand, depth: 2 } : null;
      case 'run':
        return { run: this.focus.id, expand, depth: 2 };
      case 'artifact':
        return { artifact: this.focus.id, expand, depth: 2 };
      case 'all':
        return { limit: this.limit, expand, depth: 2 };
    }
  }

  /** Fetch the graph when what it shows (or the runs) changed since the last time. */
  async load(force = false): Promise<void> {
    const runs = this.lineage.runs.data;
    const request = runs && runs.length ? this.request() : null;
    if (!request) {
      if (this.graph.data || this.graph.loading) {
        this.graph = idle();
        this._key = '';
        this.lineage.emit();
      }
      return;
    }
    const key = JSON.stringify([request, this.lineage.signature, this.lineage.storePath]);
    if (!force && key === this._key && (this.graph.data || this.graph.loading)) {
      return;
    }
    this._key = key;
    this.graph = { ...this.graph, loading: true };
    this.lineage.emit();
    try {
      const graph = await requestAPI<IGraph>('graph', this.lineage.query(request));
      if (key !== this._key) {
        return;
      }
      this.graph = { data: graph, error: null, loading: false };
      if (this.selected && !graph.nodes.some(n => n.id === this.selected)) {
        this.selected = null;
      }
    } catch (error) {
      if (key !== this._key) {
        return;
      }
      this.graph = { data: this.graph.data, error: asApiError(error), loading: false };
    }
    this.lineage.emit();
  }
}
