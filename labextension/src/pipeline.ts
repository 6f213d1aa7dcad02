/**
 * The Pipeline tab's state: the pipeline inferred across the notebooks of the store
 * (`GET pipeline`, the shape of `jupyter lineage dag --json`), stale stages marked.
 */
import { asApiError, idle, requestAPI, type ILoad, type Query } from './api';
import type { IPipeline } from './tokens';

/** What the pipeline view needs of the sidebar's model: its store query and a redraw. */
export interface IPipelineHost {
  query(extra: Query): Query;
  emit(): void;
}

export class PipelineModel {
  pipeline: ILoad<IPipeline> = idle();

  constructor(private readonly host: IPipelineHost) {}

  reset(): void {
    this.pipeline = idle();
  }

  async load(force = false): Promise<void> {
    if (force || !this.pipeline.data) {
      this.pipeline = { ...this.pipeline, loading: true };
      this.host.emit();
    }
    try {
      const data = await requestAPI<IPipeline>('pipeline', this.host.query({}));
      this.pipeline = { data, error: null, loading: false };
    } catch (error) {
      this.pipeline = { data: null, error: asApiError(error), loading: false };
    }
    this.host.emit();
  }
}
