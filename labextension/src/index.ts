/**
 * jupyter-lineage's JupyterLab plugin: a left-sidebar "Lineage" panel following the open
 * notebook, its graph in a main-area tab, palette commands and settings (store path, refresh
 * interval, the runs table's hidden columns).
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookActions, type NotebookPanel } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { LineageModel } from './model';
import { LineageGraphWidget, LineageWidget, lineageIcon } from './panel';
import { CommandIDs, PLUGIN_ID, type Tab } from './tokens';

/** The palette's order within "Lineage" (ties in a search keep the sidebar's commands first). */
const PALETTE_ORDER = [
  CommandIDs.open,
  CommandIDs.showRuns,
  CommandIDs.showGraph,
  CommandIDs.showDiff,
  CommandIDs.openGraph,
  CommandIDs.refresh
];

async function exists(contents: Contents.IManager, path: string): Promise<boolean> {
  try {
    await contents.get(path, { content: false });
    return true;
  } catch {
    return false;
  }
}

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
    model.activate = id => app.shell.activateById(id);
    model.openGraph = () => void app.commands.execute(CommandIDs.openGraph);
    model.saveNotebook = async (name, content) => {
      // beside the open notebook, never over an existing file
      const folder = PathExt.dirname(model.notebookPath ?? '');
      const contents = app.serviceManager.contents;
      const stem = name.replace(/\.ipynb$/, '');
      let path = PathExt.join(folder, name);
      for (let n = 1; await exists(contents, path); n++) {
        path = PathExt.join(folder, `${stem}-${n}.ipynb`);
      }
      await contents.save(path, { type: 'notebook', format: 'json', content });
      void app.commands.execute('docmanager:open', { path });
      return path;
    };

    let graphWidget: LineageGraphWidget | null = null;
    const openGraph = (): void => {
      if (!graphWidget || graphWidget.isDisposed) {
        graphWidget = new LineageGraphWidget(model);
        const ref = tracker.currentWidget?.id;
        app.shell.add(graphWidget, 'main', ref ? { ref, mode: 'tab-after' } : {});
      }
      app.shell.activateById(graphWidget.id);
    };

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
    app.commands.addCommand(CommandIDs.openGraph, {
      label: 'Open Lineage Graph in Main Area',
      caption: 'Draw the lineage graph of the current notebook in a tab of the main work area',
      icon: lineageIcon,
      execute: openGraph
    });
    PALETTE_ORDER.forEach((command, rank) =>
      palette?.addItem({ command, category: 'Lineage', rank })
    );

    if (settings) {
      void settings
        .load(PLUGIN_ID)
        .then(loaded => {
          const apply = (): void => {
            const hidden = loaded.get('hiddenRunColumns').composite;
            model.setSettings(
              String(loaded.get('storePath').composite ?? ''),
              Number(loaded.get('refreshInterval').composite ?? 3),
              Array.isArray(hidden) ? hidden.map(String) : []
            );
          };
          apply();
          loaded.changed.connect(apply);
          model.saveHidden = keys =>
            void loaded
              .set('hiddenRunColumns', keys)
              .catch(reason => console.error('jupyter-lineage: could not save the columns', reason));
        })
        .catch(reason => console.error('jupyter-lineage: could not load settings', reason));
    }
  }
};

export default plugin;
