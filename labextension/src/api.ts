/** Requests to the server extension's read-only REST API (docs/rest.md). */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { IApiError } from './tokens';

/** An answer of the API that is not a success: its JSON `{code, message}`. */
export class ApiError extends Error implements IApiError {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | null | undefined>;

export async function requestAPI<T>(
  endpoint: string,
  query: Query = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') {
      params.set(key, String(value));
    }
  }
  const search = params.toString();
  const url =
    URLExt.join(settings.baseUrl, 'lineage', 'api', endpoint) + (search ? `?${search}` : '');
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, {}, settings);
  } catch (error) {
    throw new ApiError(
      'network',
      `Could not reach the Jupyter server (${String(error)}). Check that it is still running.`,
      0
    );
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const body = (data ?? {}) as Partial<IApiError>;
    if (response.status === 404 && !body.code) {
      throw new ApiError(
        'no_server_extension',
        'The jupyter-lineage server extension is not enabled. Run `jupyter server extension enable jupyter_lineage` and restart JupyterLab.',
        404
      );
    }
    throw new ApiError(
      body.code ?? 'http_error',
      body.message ?? `The server answered ${response.status} ${response.statusText}.`,
      response.status
    );
  }
  return data as T;
}
