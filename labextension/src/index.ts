/**
 * jupyter-lineage's JupyterLab plugin: a left-sidebar "Lineage" panel following the open
 * notebook, with palette commands and settings (store path, refresh interval).
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions, type NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { LineageModel } from './model';
import { LineageWidget, lineageIcon } from './panel';
import { CommandIDs, PLUGIN_ID, type Tab } from './tokens';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Live runs, lineage graph and run diff of the open notebook.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    settings: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const model = new LineageModel();
    const widget = new LineageWidget(model);
    app.shell.add(widget, 'left', { rank: 650 });
    restorer?.add(widget, widget.id);

    const follow = (panel: NotebookPanel | null): void => model.setNotebook(panel);
    tracker.currentChanged.connect((_, panel) => follow(panel));
    void app.restored.then(() => follow(tracker.currentWidget));
    NotebookActions.executed.connect((_, { notebook }) => {
      if (tracker.currentWidget?.content === notebook) {
        model.refreshSoon();
      }
    });

    const show = (tab: Tab) => (): void => {
      app.shell.activateById(widget.id);
      model.setTab(tab);
    };
    app.commands.addCommand(CommandIDs.open, {
      label: 'Show Lineage Panel',
      caption: 'Open the lineage sidebar of the current notebook',
      icon: lineageIcon,
      execute: () => app.shell.activateById(widget.id)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Lineage',
      execute: () => model.refresh(true)
    });
    app.commands.addCommand(CommandIDs.showRuns, { label: 'Show Lineage Runs', execute: show('runs') });
    app.commands.addCommand(CommandIDs.showGraph, { label: 'Show Lineage Graph', execute: show('graph') });
    app.commands.addCommand(CommandIDs.showDiff, { label: 'Compare Two Runs (Lineage Diff)', execute: show('diff') });
    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category: 'Lineage' });
    }

    if (settings) {
      void settings
        .load(PLUGIN_ID)
        .then(loaded => {
          const apply = (): void =>
            model.setSettings(
              String(loaded.get('storePath').composite ?? ''),
              Number(loaded.get('refreshInterval').composite ?? 3)
            );
          apply();
          loaded.changed.connect(apply);
        })
        .catch(reason => console.error('jupyter-lineage: could not load settings', reason));
    }
  }
};

export default plugin;
