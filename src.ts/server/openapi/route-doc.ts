/** The shape of the route table the OpenAPI document is built from (`api-routes.ts`). */

/** Who may call a route: client keys (`/v1/*`), the admin token, the metrics token (or admin), anyone. */
export type RouteAuth = 'client' | 'admin' | 'metrics' | 'none';

/** Names of the schemas in `components.schemas` (see `openapi-document.ts`). */
export type SchemaName =
  | 'ChatCompletionRequest'
  | 'TextCompletionRequest'
  | 'EmbeddingRequest'
  | 'EmbeddingList'
  | 'ImageGenerationRequest'
  | 'ImagesAnswer'
  | 'Transcription'
  | 'VerifyRequest'
  | 'ResponsesRequest'
  | 'ResponseObject'
  | 'ChatCompletion'
  | 'ChatCompletionChunk'
  | 'TextCompletion'
  | 'VerifyResult'
  | 'ModelList'
  | 'Model'
  | 'CatalogRefresh'
  | 'Readmit'
  | 'Health'
  | 'AdminProviders'
  | 'AdminKeys'
  | 'AdminBilling'
  | 'AdminRequests'
  | 'AdminUsage'
  | 'StatusView'
  | 'NodeAddRequest'
  | 'AdminProviderAdd'
  | 'AdminProviderPatch'
  | 'MemberChange'
  | 'NodesStatus'
  | 'AdminQueue'
  | 'Error';

/** A successful answer of a route. */
export interface SuccessDoc {
  status: number;
  description: string;
  /** JSON body schema. */
  json?: SchemaName;
  /** A non-JSON body: its media type and what it holds. */
  other?: { mediaType: string; description: string };
  /** Response headers (names in `components.headers`). */
  headers?: string[];
}

/** One route of the document. */
export interface ApiRouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI path template, e.g. `/docs/{asset}`. */
  path: string;
  operationId: string;
  tag: 'Inference' | 'Operations' | 'Admin' | 'Documentation';
  summary: string;
  description: string;
  auth: RouteAuth;
  /** JSON request body schema. */
  request?: SchemaName;
  /** A `multipart/form-data` request body: its parts (name → description; files are binary). */
  form?: { files: Record<string, string>; fields: Record<string, string>; required: string[] };
  /** Request headers (names in `components.parameters`). */
  parameters?: string[];
  success: SuccessDoc[];
  /** Error statuses (each answered with the Error body). */
  errors: number[];
}

