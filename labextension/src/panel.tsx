import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import { LineagePanel } from './components/LineagePanel';
import type { LineageModel } from './model';
import { PANEL_ID } from './tokens';

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
