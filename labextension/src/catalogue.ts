/**
 * The Models tab's state: the store's model versions (`GET models`, optionally one tag's),
 * and the version opened for its details (`GET models/ARTIFACT`), fetched once per version.
 */
import { asApiError, idle, requestAPI, type ILoad, type Query } from './api';
import type { IModelDetail, IModelVersion } from './tokens';

/** What the catalogue needs of the sidebar's model: its store query and a redraw. */
export interface ICatalogueHost {
  query(extra: Query): Query;
  emit(): void;
}

export class CatalogueModel {
  versions: ILoad<IModelVersion[]> = idle();
  /** Only versions holding this tag ('' for all). */
  tag = '';
  /** Every tag seen in the unfiltered list: the filter's choices. */
  tags: string[] = [];
  open: string | null = null;
  detail: ILoad<IModelDetail> = idle();
  private _details = new Map<string, IModelDetail>();

  constructor(private readonly host: ICatalogueHost) {}

  reset(): void {
    this.versions = idle();
    this.open = null;
    this.detail = idle();
    this._details.clear();
  }

  setTag(tag: string): void {
    this.tag = tag;
    this.versions = { data: null, error: null, loading: true };
    this.host.emit();
    void this.load(true);
  }

  async load(force = false): Promise<void> {
    const tag = this.tag;
    if (force || !this.versions.data) {
      this.versions = { ...this.versions, loading: true };
      this.host.emit();
    }
    try {
      const rows = await requestAPI<IModelVersion[]>('models', this.host.query({ tag }));
      if (tag !== this.tag) {
        return;
      }
      if (!tag) {
        this.tags = [...new Set(rows.flatMap(r => r.tags))].sort();
      }
      const changed = JSON.stringify(rows) !== JSON.stringify(this.versions.data);
      this.versions = { data: rows, error: null, loading: false };
      if (changed) {
        this._details.clear();
        if (this.open) {
          await this.loadDetail(this.open);
        }
      }
    } catch (error) {
      if (tag === this.tag) {
        this.versions = { data: null, error: asApiError(error), loading: false };
      }
    }
    this.host.emit();
  }

  /** Open a version's details (or close them when it is already open). */
  toggle(artifact: string): void {
    if (this.open === artifact) {
      this.open = null;
      this.detail = idle();
      this.host.emit();
      return;
    }
    this.open = artifact;
    void this.loadDetail(artifact);
  }

  private async loadDetail(artifact: string): Promise<void> {
    const known = this._details.get(artifact);
    if (known) {
      this.detail = { data: known, error: null, loading: false };
      this.host.emit();
      return;
    }
    this.detail = { data: null, error: null, loading: true };
    this.host.emit();
    try {
      const found = await requestAPI<IModelDetail>(
        `models/${encodeURIComponent(artifact)}`,
        this.host.query({})
      );
      this._details.set(artifact, found);
      if (this.open === artifact) {
        this.detail = { data: found, error: null, loading: false };
      }
    } catch (error) {
      if (this.open === artifact) {
        this.detail = { data: null, error: asApiError(error), loading: false };
      }
    }
    this.host.emit();
  }
}
