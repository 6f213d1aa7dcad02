/**
 * The sidebar's state: the open notebook, its runs (and the table's sort, filter, selection
 * and columns), the diff, and the graph (graphModel.ts), kept fresh by polling while the
 * panel or the graph tab is visible (and right after a cell runs). Views only read it.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

import { asApiError, idle, requestAPI, type ILoad, type Query } from './api';
import { CatalogueModel } from './catalogue';
import { PipelineModel } from './pipeline';
import { GraphModel } from './graphModel';
import { defaultPair, runsSignature } from './shape';
import { parseWhere } from './table';
import {
  PANEL_ID,
  type IDiff,
  type IEnvFile,
  type IGathered,
  type IRunDetail, type IRunSummary, type ISort, type Tab } from './tokens';

/** How many runs the table loads at first, and how many more each "Show more" adds. */
export const RUNS_PAGE = 200;

export class LineageModel {
  readonly changed = new Signal<this, void>(this);

  tab: Tab = 'runs';
  notebook: NotebookPanel | null = null;
  /** The notebook's newest runs, unfiltered (the graph's and the diff's runs). */
  runs: ILoad<IRunSummary[]> = idle();
  /** More runs exist than are loaded. */
  more = false;
  runsLimit = RUNS_PAGE;
  /** The table's filter as applied (`runs --where` conditions) and its answer. */
  where = '';
  filtered: ILoad<IRunSummary[]> = idle();
  sort: ISort | null = null;
  /** Selected rows, in the order they were picked (the first is A of a diff). */
  selection: string[] = [];
  /** Column keys the user hid (persisted in the settings). */
  hidden: string[] = [];
  plotOpen = false;
  plotX: string | null = null;
  plotY: string | null = null;
  diff: ILoad<IDiff> = idle();
  pair: [string, string] | null = null;
  readonly graph: GraphModel;
  /** The Models tab (catalogue.ts). */
  readonly catalogue: CatalogueModel;
  /** The Pipeline tab (pipeline.ts). */
  readonly pipeline: PipelineModel;
  storePath = '';
  refreshSeconds = 3;
  /** Set by the plugin: bring a widget (the notebook, the sidebar) to the front. */
  activate: (id: string) => void = () => undefined;
  /** Set by the plugin: open (or bring forward) the main-area graph. */
  openGraph: () => void = () => undefined;
  /** Set by the plugin: save a notebook beside the open one and open it; its path. */
  saveNotebook: (name: string, content: Record<string, unknown>) => Promise<string> = () =>
    Promise.reject(new Error('JupyterLab did not give the sidebar its file manager.'));
  /** Set by the plugin: save the hidden columns. */
  saveHidden: (keys: string[]) => void = () => undefined;

  private _panelVisible = false;
  private _graphVisible = false;
  private _timer: number | null = null;
  private _soon: number | null = null;
  private _signature = '';
  private _disposed = false;
  private _pairChosen = false;
  private _details = new Map<string, Promise<IRunDetail>>();

  constructor() {
    this.graph = new GraphModel(this);
    this.catalogue = new CatalogueModel(this);
    this.pipeline = new PipelineModel(this);
  }

  get notebookPath(): string | null {
    return this.notebook ? this.notebook.context.path : null;
  }

  get signature(): string {
    return this._signature;
  }

  /** The rows of the table: the filter's answer when there is a filter. */
  get tableRuns(): ILoad<IRunSummary[]> {
    return this.where ? this.filtered : this.runs;
  }

  setNotebook(panel: NotebookPanel | null): void {
    if (panel === this.notebook) {
      return;
    }
    this.notebook = panel;
    this.runs = idle();
    this.filtered = idle();
    this.diff = idle();
    this.more = false;
    this.runsLimit = RUNS_PAGE;
    this.selection = [];
    this.pair = null;
    this._pairChosen = false;
    this._signature = '';
    this._details.clear();
    this.graph.reset();
    this.catalogue.reset();
    this.pipeline.reset();
    this.emit();
    void this.refresh(true);
  }

  setTab(tab: Tab): void {
    this.tab = tab;
    this.emit();
    void this.refresh(true);
  }

  setSettings(storePath: string, refreshSeconds: number, hidden: string[]): void {
    const changed = storePath !== this.storePath;
    this.storePath = storePath;
    this.refreshSeconds = refreshSeconds;
    this.hidden = hidden;
    this._schedule();
    this.emit();
    if (changed) {
      this._signature = '';
      this._details.clear();
      this.graph.reset();
      this.catalogue.reset();
      this.pipeline.reset();
      void this.refresh(true);
    }
  }

  setVisible(visible: boolean): void {
    this._panelVisible = visible;
    this._schedule();
    if (visible) {
      void this.refresh(true);
    }
  }

  /** The graph's main-area tab was shown or hidden. */
  setGraphVisible(visible: boolean): void {
    this._graphVisible = visible;
    this._schedule();
    if (visible) {
      void this.refresh(true);
    }
  }

  /** Is a graph view on screen: the sidebar's Graph tab or the main-area graph. */
  get graphShown(): boolean {
    return (this._panelVisible && this.tab === 'graph') || this._graphVisible;
  }

  /** A cell just ran: look again shortly (the kernel commits its record as the cell ends). */
  refreshSoon(): void {
    if (this._soon !== null || !(this._panelVisible || this._graphVisible)) {
      return;
    }
    this._soon = window.setTimeout(() => {
      this._soon = null;
      void this.refresh();
    }, 400);
  }

  showRunGraph(runId: string): void {
    this.graph.setFocus({ kind: 'run', id: runId });
    this.setTab('graph');
  }

  setPair(a: string, b: string): void {
    this.pair = [a, b];
    this._pairChosen = true;
    void this.loadDiff();
  }

  /** Open the diff of two runs in the sidebar. */
  compare(a: string, b: string): void {
    this.setPair(a, b);
    this.tab = 'diff';
    this.emit();
    this.activate(PANEL_ID);
  }

  // -- the table -----------------------------------------------------------------------------

  setSort(sort: ISort | null): void {
    this.sort = sort;
    this.emit();
  }

  /** Pick or drop a row; picking the second opens the diff of the two. */
  toggleSelected(id: string): void {
    if (this.selection.includes(id)) {
      this.selection = this.selection.filter(x => x !== id);
      this.emit();
      return;
    }
    this.selection = [...this.selection, id];
    if (this.selection.length === 2) {
      this.compare(this.selection[0], this.selection[1]);
    } else {
      this.emit();
    }
  }

  clearSelection(): void {
    this.selection = [];
    this.emit();
  }

  setWhere(text: string): void {
    this.where = parseWhere(text).join(', ');
    this.filtered = this.where ? { data: null, error: null, loading: true } : idle();
    this.emit();
    if (this.where) {
      void this.loadFiltered();
    }
  }

  setHidden(keys: string[]): void {
    this.hidden = keys;
    this.emit();
    this.saveHidden(keys);
  }

  setPlot(open: boolean, x: string | null = this.plotX, y: string | null = this.plotY): void {
    this.plotOpen = open;
    this.plotX = x;
    this.plotY = y;
    this.emit();
  }

  /** Load more runs into the table (and the pickers). */
  showMoreRuns(): void {
    this.runsLimit = Math.min(1000, this.runsLimit + RUNS_PAGE);
    void this.refresh(true);
  }

  /** A run in full (its metric history), fetched once per run and store. */
  /** The run's exact pins as a requirements file (`jupyter lineage env RUN`). */
  async requirements(id: string): Promise<string> {
    const env = await requestAPI<IEnvFile>(
      `runs/${encodeURIComponent(id)}/env`,
      this.query({ format: 'requirements' })
    );
    return env.text;
  }

  /** The minimal notebook that rebuilds this file version, saved beside the open notebook
   * and opened (`jupyter lineage gather`); the path it was saved at. */
  async gather(artifact: string): Promise<string> {
    const found = await requestAPI<IGathered>('gather', this.query({ artifact }));
    return this.saveNotebook(found.name, found.notebook_json);
  }

  runDetail(id: string): Promise<IRunDetail> {
    let found = this._details.get(id);
    if (!found) {
      found = requestAPI<IRunDetail>(`runs/${encodeURIComponent(id)}`, this.query({}));
      found.catch(() => this._details.delete(id));
      this._details.set(id, found);
    }
    return found;
  }

  // -- loading -------------------------------------------------------------------------------

  /** Fetch the runs; redraw the graph or diff only when the runs changed. */
  async refresh(force = false): Promise<void> {
    const path = this.notebookPath;
    if (path === null || this._disposed) {
      return;
    }
    if (this._panelVisible && this.tab === 'models') {
      // the store's models, whether or not this notebook has runs of its own
      void this.catalogue.load(force);
    }
    if (this._panelVisible && this.tab === 'pipeline') {
      // the pipeline across the store's notebooks, this one among them or not
      void this.pipeline.load(force);
    }
    if (force || !this.runs.data) {
      this.runs = { ...this.runs, loading: true };
      this.emit();
    }
    try {
      const limit = this.runsLimit;
      const runs = await requestAPI<IRunSummary[]>('runs', this.query({ limit: limit + 1 }));
      if (path !== this.notebookPath) {
        return;
      }
      this.more = runs.length > limit;
      runs.splice(limit);
      const signature = runsSignature(runs);
      const changed = signature !== this._signature;
      this._signature = signature;
      this.runs = { data: runs, error: null, loading: false };
      const known = (id: string): boolean => runs.some(r => r.id === id);
      if (!this._pairChosen || !this.pair || !this.pair.every(known)) {
        // until the user picks two runs, compare the newest two
        this.pair = defaultPair(runs);
        this._pairChosen = false;
      }
      this.emit();
      if (this.where && (changed || force || !this.filtered.data)) {
        await this.loadFiltered();
      }
      if (this.graphShown) {
        await this.graph.load(force);
      }
      if (this.tab === 'diff' && (changed || force || !this.diff.data)) {
        await this.loadDiff();
      }
    } catch (error) {
      if (path === this.notebookPath) {
        this.runs = { data: null, error: asApiError(error), loading: false };
        this.emit();
      }
    }
  }

  async loadFiltered(): Promise<void> {
    const where = this.where;
    if (!where) {
      return;
    }
    try {
      const rows = await requestAPI<IRunSummary[]>(
        'runs',
        this.query({ limit: this.runsLimit, where: parseWhere(where) })
      );
      if (where === this.where) {
        this.filtered = { data: rows, error: null, loading: false };
      }
    } catch (error) {
      if (where === this.where) {
        this.filtered = { data: null, error: asApiError(error), loading: false };
      }
    }
    this.emit();
  }

  async loadDiff(): Promise<void> {
    if (!this.pair) {
      this.diff = idle();
      this.emit();
      return;
    }
    const [a, b] = this.pair;
    this.diff = { ...this.diff, loading: true };
    this.emit();
    try {
      const diff = await requestAPI<IDiff>('diff', this.query({ a, b }));
      if (this.pair && this.pair[0] === a && this.pair[1] === b) {
        this.diff = { data: diff, error: null, loading: false };
      }
    } catch (error) {
      this.diff = { data: null, error: asApiError(error), loading: false };
    }
    this.emit();
  }

  /** Select the notebook cell a recorded execution came from (its tab brought forward). */
  goToCell(cellId: string): boolean {
    const panel = this.notebook;
    if (!panel) {
      return false;
    }
    const notebook = panel.content;
    const index = notebook.widgets.findIndex(cell => cell.model.id === cellId);
    if (index < 0) {
      return false;
    }
    this.activate(panel.id);
    notebook.activeCellIndex = index;
    void notebook.scrollToItem(index, 'center');
    panel.content.activate();
    return true;
  }

  hasCell(cellId: string | null): boolean {
    return (
      !!cellId && !!this.notebook?.content.widgets.some(cell => cell.model.id === cellId)
    );
  }

  dispose(): void {
    this._disposed = true;
    this._panelVisible = this._graphVisible = false;
    this._schedule();
    Signal.clearData(this);
  }

  /** The store's query parameters (notebook, store path) plus the request's own. */
  query(extra: Query): Query {
    return { notebook: this.notebookPath ?? '', db: this.storePath, ...extra };
  }

  emit(): void {
    if (!this._disposed) {
      this.changed.emit();
    }
  }

  private _schedule(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
    const visible = this._panelVisible || this._graphVisible;
    if (visible && this.refreshSeconds > 0 && !this._disposed) {
      this._timer = window.setInterval(
        () => void this.refresh(),
        Math.max(0.5, this.refreshSeconds) * 1000
      );
    }
  }
}
