import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import { GraphArea } from './components/GraphArea';
import { LineagePanel } from './components/LineagePanel';
import type { LineageModel } from './model';
import { GRAPH_WIDGET_ID, PANEL_ID } from './tokens';

/** Three nodes joined left to right: data → run → model. */
export const lineageIcon = new LabIcon({
  name: 'jupyter-lineage:lineage',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<circle cx="4" cy="6" r="3"/><circle cx="4" cy="18" r="3"/><rect x="15" y="9" width="7" height="6" rx="1"/>' +
    '<path d="M6.5 7.2 15 11.2v1.6L6.5 16.8v-1.7l6.6-3.1-6.6-3.1z"/></g></svg>'
});

/** The left-sidebar widget; polls only while it is shown. */
export class LineageWidget extends ReactWidget {
  constructor(readonly model: LineageModel) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-Lineage-panel');
    this.title.icon = lineageIcon;
    this.title.caption = 'Lineage';
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setVisible(false);
  }

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }

  render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => <LineagePanel model={this.model} />}
      </UseSignal>
    );
  }
}

/**
 * The graph in the main work area, a tab like a notebook's: the lineage of the notebook in
 * focus drawn large, sharing focus, selection and search with the sidebar.
 */
export class LineageGraphWidget extends ReactWidget {
  constructor(readonly model: LineageModel) {
    super();
    this.id = GRAPH_WIDGET_ID;
    this.addClass('jp-Lineage-graph-widget');
    this.title.icon = lineageIcon;
    this.title.label = 'Lineage graph';
    this.title.caption = 'Lineage graph of the notebook in focus';
    this.title.closable = true;
    this.node.tabIndex = -1;
    this._rename();
    model.changed.connect(this._rename, this);
  }

  dispose(): void {
    this.model.changed.disconnect(this._rename, this);
    super.dispose();
  }

  private _rename(): void {
    const path = this.model.notebookPath;
    this.title.label = path ? `Lineage · ${path.split('/').pop()}` : 'Lineage graph';
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setGraphVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setGraphVisible(false);
  }

  /** Take the focus, so the shell's focus tracking keeps this tab current. */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    if (!this.node.contains(document.activeElement)) {
      this.node.focus();
    }
  }

  protected onCloseRequest(msg: Message): void {
    this.model.setGraphVisible(false);
    super.onCloseRequest(msg);
  }

  render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => <GraphArea model={this.model} />}
      </UseSignal>
    );
  }
}
