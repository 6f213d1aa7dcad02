/**
 * The sidebar's state: the open notebook, its runs, graph and diff, kept fresh by polling
 * while the panel is visible (and right after a cell runs). Views only read it.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

import { ApiError, requestAPI } from './api';
import { defaultPair, runsSignature } from './shape';
import type { IDiff, IGraph, IRunSummary, Tab } from './tokens';

export interface ILoad<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
}

function idle<T>(): ILoad<T> {
  return { data: null, error: null, loading: false };
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError
    ? error
    : new ApiError('unexpected', `Something went wrong: ${String(error)}`, 0);
}

export class LineageModel {
  readonly changed = new Signal<this, void>(this);

  tab: Tab = 'runs';
  notebook: NotebookPanel | null = null;
  runs: ILoad<IRunSummary[]> = idle();
  graph: ILoad<IGraph> = idle();
  diff: ILoad<IDiff> = idle();
  /** The run drawn with its cells (null: the newest run). */
  expanded: string | null = null;
  selected: string | null = null;
  pair: [string, string] | null = null;
  storePath = '';
  refreshSeconds = 3;

  private _visible = false;
  private _timer: number | null = null;
  private _soon: number | null = null;
  private _signature = '';
  private _graphKey = '';
  private _disposed = false;
  private _pairChosen = false;

  get notebookPath(): string | null {
    return this.notebook ? this.notebook.context.path : null;
  }

  setNotebook(panel: NotebookPanel | null): void {
    if (panel === this.notebook) {
      return;
    }
    this.notebook = panel;
    this.runs = idle();
    this.graph = idle();
    this.diff = idle();
    this.expanded = this.selected = null;
    this.pair = null;
    this._pairChosen = false;
    this._signature = this._graphKey = '';
    this.emit();
    void this.refresh(true);
  }

  setTab(tab: Tab): void {
    this.tab = tab;
    this.emit();
    void this.refresh(true);
  }

  setSettings(storePath: string, refreshSeconds: number): void {
    const changed = storePath !== this.storePath;
    this.storePath = storePath;
    this.refreshSeconds = refreshSeconds;
    this._schedule();
    if (changed) {
      this._signature = this._graphKey = '';
      void this.refresh(true);
    }
  }

  setVisible(visible: boolean): void {
    this._visible = visible;
    this._schedule();
    if (visible) {
      void this.refresh(true);
    }
  }

  /** A cell just ran: look again shortly (the kernel commits its record as the cell ends). */
  refreshSoon(): void {
    if (this._soon !== null || !this._visible) {
      return;
    }
    this._soon = window.setTimeout(() => {
      this._soon = null;
      void this.refresh();
    }, 400);
  }

  select(id: string | null): void {
    this.selected = id;
    this.emit();
  }

  expand(runId: string | null): void {
    this.expanded = runId;
    this._graphKey = '';
    void this.loadGraph();
  }

  showRunGraph(runId: string): void {
    this.expanded = runId;
    this.selected = runId;
    this._graphKey = '';
    this.setTab('graph');
  }

  setPair(a: string, b: string): void {
    this.pair = [a, b];
    this._pairChosen = true;
    void this.loadDiff();
  }

  /** Fetch the runs; redraw the graph or diff only when the runs changed. */
  async refresh(force = false): Promise<void> {
    const path = this.notebookPath;
    if (path === null || this._disposed) {
      return;
    }
    if (force || !this.runs.data) {
      this.runs = { ...this.runs, loading: true };
      this.emit();
    }
    try {
      const runs = await requestAPI<IRunSummary[]>('runs', this.query({ limit: 200 }));
      if (path !== this.notebookPath) {
        return;
      }
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
      if (this.tab === 'graph' && (changed || force)) {
        await this.loadGraph(force);
      } else if (this.tab === 'diff' && (changed || force || !this.diff.data)) {
        await this.loadDiff();
      }
    } catch (error) {
      if (path === this.notebookPath) {
        this.runs = { data: null, error: asApiError(error), loading: false };
        this.emit();
      }
    }
  }

  async loadGraph(force = false): Promise<void> {
    const runs = this.runs.data;
    if (!runs || runs.length === 0) {
      this.graph = idle();
      this.emit();
      return;
    }
    const key = `${this._signature}|${this.expanded ?? ''}|${this.storePath}`;
    if (!force && key === this._graphKey && this.graph.data) {
      return;
    }
    this._graphKey = key;
    this.graph = { ...this.graph, loading: true };
    this.emit();
    try {
      const expand = this.expanded ?? runs[0].id;
      const graph = await requestAPI<IGraph>('graph', this.query({ expand, depth: 2 }));
      if (key !== this._graphKey) {
        return;
      }
      this.graph = { data: graph, error: null, loading: false };
    } catch (error) {
      this.graph = { data: this.graph.data, error: asApiError(error), loading: false };
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

  /** Select the notebook cell a recorded execution came from. */
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
    this._visible = false;
    this._schedule();
    Signal.clearData(this);
  }

  private query(extra: Record<string, string | number>): Record<string, string | number> {
    return { notebook: this.notebookPath ?? '', db: this.storePath, ...extra };
  }

  private _schedule(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
    if (this._visible && this.refreshSeconds > 0 && !this._disposed) {
      this._timer = window.setInterval(
        () => void this.refresh(),
        Math.max(0.5, this.refreshSeconds) * 1000
      );
    }
  }

  private emit(): void {
    if (!this._disposed) {
      this.changed.emit();
    }
  }
}
