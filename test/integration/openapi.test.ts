import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import {
  adminKeysSchema,
  adminProvidersSchema,
  buildOpenApiDocument,
  chatCompletionChunkSchema,
  chatCompletionRequestSchema,
  chatCompletionSchema,
  ERROR_CODES,
  errorBodySchema,
  healthSchema,
  nodesStatusSchema,
  adminQueueSchema,
  modelListSchema,
  runMultiProviderInferenceServer,
  startHttpServer,
  statusViewSchema,
  textCompletionRequestSchema,
  verifyRequestSchema,
  verifyResultSchema,
  type GatewayHandle,
} from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';

type Json = Record<string, unknown>;
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Json & { operationId: string; security: Json[]; parameters?: Json[]; requestBody?: { content: Record<string, { schema: Json }> } }>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> } & Json;
}

const ADMIN_TOKEN = 'an-admin-token-never-in-the-docs';

/** Every `$ref` in `value`. */
function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refs(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child);
      else refs(child, found);
    }
  }
  return found;
}

function resolve(document: unknown, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `local ref ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Json)[key] : undefined), document);
}

describe('OpenAPI document', () => {
  let upstream: HostileUpstream;
  let gateway: GatewayHandle;
  let document: Document;

  before(async () => {
    upstream = await startHostileUpstream('u');
    gateway = await runMultiProviderInferenceServer(
      { openAICompatibleProviders: [{ name: 'u', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, healthCheckInterval: 3_600_000, adminToken: ADMIN_TOKEN },
      { logger: silentLogger },
    );
    const response = await fetch(`${gateway.url}/openapi.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    document = (await response.json()) as Document;
  });

  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  test('request bodies are the JSON Schema of the very zod schemas that validate them', () => {
    assert.equal(document.openapi, '3.1.0');
    assert.deepEqual(document.components.schemas.ChatCompletionRequest, z.toJSONSchema(chatCompletionRequestSchema));
    assert.deepEqual(document.components.schemas.TextCompletionRequest, z.toJSONSchema(textCompletionRequestSchema));
    assert.deepEqual(document.components.schemas.VerifyRequest, z.toJSONSchema(verifyRequestSchema));
    const body = document.paths['/v1/chat/completions']?.post?.requestBody?.content['application/json']?.schema;
    assert.deepEqual(body, { $ref: '#/components/schemas/ChatCompletionRequest' });
    const errorCodes = ((document.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error.properties.code.enum);
    assert.deepEqual([...errorCodes].sort(), Object.keys(ERROR_CODES).sort(), 'the error body lists every code of the table');
  });

  test('documents exactly the routes the server serves', async () => {
    const server = await startHttpServer(gateway.gateway, {
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger,
      bodyLimit: '1mb',
      requestTimeout: 10_000,
      headersTimeout: 5_000,
      adminToken: ADMIN_TOKEN,
      corsOrigins: [],
      processMetrics: false,
    });
    try {
      const served = server.routes.map((route) => `${route.method} ${route.path}`).sort();
      const documented = Object.entries(document.paths)
        .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
      assert.deepEqual(documented, served);
      assert.ok(served.length >= 13);
    } finally {
      await server.closeConnections(100);
    }
  });

  test('every documented route answers (none is a 404 no-route)', async () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const method of Object.keys(methods)) {
        // Each asset route has its own file names (the status page's carry uPlot's version).
        const asset = path.startsWith('/status/') ? `uplot-${(require('uplot/package.json') as { version: string }).version}.min.css` : 'swagger-ui.css';
        const url = `${gateway.url}${path.replace('{asset}', asset).replace('{id}', 'm').replace('{address}', 'u')}`;
        const response = await fetch(url, {
          method: method.toUpperCase(),
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          ...(method === 'post' ? { body: '{}' } : {}),
        });
        const text = await response.text();
        assert.ok(!text.includes('"code":"not_found"'), `${method} ${path} answered ${response.status}`);
        // POSTs get `{}`: refused as invalid where a body is read; the admin actions answer for the fleet as it is.
        // The request log routes answer 404 request_log_not_configured on a server without one; the multipart routes refuse a JSON body as 415 (not a form).
        // PATCH without a body is invalid JSON; DELETE of a provider not in the fleet (`m`) is 404 provider_not_found, and so is GET of a Response never made (response_not_found).
        const expected: Record<string, number> = { 'get /admin/requests': 404, 'get /admin/usage': 404, 'post /admin/catalog/refresh': 409, 'post /admin/providers/{address}/readmit': 200, 'patch /admin/providers/{id}': 400, 'delete /admin/providers/{id}': 404, 'get /v1/responses/{id}': 404, 'post /v1/images/edits': 415, 'post /v1/audio/transcriptions': 415 };
        assert.equal(response.status, expected[`${method} ${path}`] ?? (method === 'post' ? 400 : 200), `${method} ${path}: ${text}`);
      }
    }
  });

  test('is well formed: refs resolve, operation ids are unique, path parameters and security schemes are declared', () => {
    for (const ref of refs(document)) assert.notEqual(resolve(document, ref), undefined, `${ref} resolves`);
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.values(methods).map((operation) => ({ path, operation })));
    assert.equal(new Set(operations.map(({ operation }) => operation.operationId)).size, operations.length);
    for (const { path, operation } of operations) {
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        assert.ok(operation.parameters?.some((parameter) => parameter.in === 'path' && parameter.name === name), `${path} declares {${name}}`);
      }
      for (const requirement of operation.security) for (const scheme of Object.keys(requirement)) assert.ok(document.components.securitySchemes[scheme], scheme);
      assert.ok(Object.keys(operation.responses as Json).length > 0);
    }
    assert.deepEqual(document.paths['/admin/providers']?.get?.security, [{ adminToken: [] }]);
    assert.deepEqual(document.paths['/metrics']?.get?.security, [{ adminToken: [] }]);
    assert.deepEqual(document.paths['/v1/chat/completions']?.post?.security, [], 'no client keys configured');
    assert.ok(!JSON.stringify(document).includes(ADMIN_TOKEN), 'no secret in the document');
  });

  test('security follows the configuration', () => {
    const keyed = buildOpenApiDocument({ clientKeys: true, adminToken: true, metricsToken: true }) as unknown as Document;
    assert.deepEqual(keyed.paths['/v1/chat/completions']?.post?.security, [{ clientKey: [] }]);
    assert.deepEqual(keyed.paths['/metrics']?.get?.security, [{ adminToken: [] }, { metricsToken: [] }]);
    assert.deepEqual(keyed.paths['/health']?.get?.security, []);
  });

  test('real responses match the documented response schemas', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const get = async (path: string, headers: Record<string, string> = {}): Promise<unknown> => (await fetch(`${gateway.url}${path}`, { headers })).json();
    const post = async (path: string, body: unknown): Promise<Response> =>
      fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const completion = chatCompletionSchema.parse(await (await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'shape' }] })).json());
    verifyResultSchema.parse(await (await post('/v1/verify', { id: completion.id })).json());
    const stream = await (await post('/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'stream shape' }] })).text();
    const events = stream.split('\n\n').filter((event) => event.startsWith('data: {'));
    assert.ok(events.length > 1);
    for (const event of events) chatCompletionChunkSchema.parse(JSON.parse(event.slice('data: '.length)));
    healthSchema.parse(await get('/health'));
    modelListSchema.parse(await get('/v1/models'));
    adminProvidersSchema.parse(await get('/admin/providers', admin));
    nodesStatusSchema.parse(await get('/nodes/status', admin));
    adminQueueSchema.parse(await get('/admin/queue', admin));
    adminKeysSchema.parse(await get('/admin/keys', admin));
    statusViewSchema.parse(await get('/admin/status', admin));
    errorBodySchema.parse(await get('/no/such/route'));
    errorBodySchema.parse(await (await post('/v1/chat/completions', { messages: [] })).json());
  });
});
