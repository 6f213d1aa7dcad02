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

/** Query parameters; a list repeats the parameter (`where=a&where=b`). */
export type Query = Record<string, string | number | string[] | null | undefined>;

export async function requestAPI<T>(
  endpoint: string,
  query: Query = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) {
      value.forEach(item => params.append(key, item));
    } else if (value !== null && value !== undefined && value !== '') {
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

/** A request's state as views show it: its data, its error, whether it is under way. */
export interface ILoad<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
}

export function idle<T>(): ILoad<T> {
  return { data: null, error: null, loading: false };
}

export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError
    ? error
    : new ApiError('unexpected', `Something went wrong: ${String(error)}`, 0);
}

