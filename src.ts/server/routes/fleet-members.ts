import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import { describeProvider } from '../../fleet/describe-providers.js';
import type { FleetControl } from '../../fleet/fleet-source.js';
import type { Gateway } from '../../gateway/gateway.js';
import type { ProviderMembershipOptions } from '../../fleet/provider-entry.js';
import { adminProviderAddSchema, adminProviderPatchSchema, nodeAddRequestSchema } from '../openapi/fleet-schemas.js';
import { readJsonBody } from '../read-json-body.js';
import { validateBody } from '../validate-body.js';
import { writeJson } from '../write-error.js';

type MembershipInput = { [K in keyof ProviderMembershipOptions]?: ProviderMembershipOptions[K] | null };

const MEMBERSHIP_KEYS = ['weight', 'maxConcurrent', 'pool', 'throughput', 'capacity', 'rpm', 'tpm'] as const;

/** The membership fields present in a body (`null` becomes an explicit undefined: cleared). */
function membershipOf(body: MembershipInput): ProviderMembershipOptions {
  const options: Record<string, unknown> = {};
  for (const key of MEMBERSHIP_KEYS) if (key in body && body[key] !== undefined) options[key] = body[key] ?? undefined;
  return options as ProviderMembershipOptions;
}

function requireControl(control: FleetControl | undefined): FleetControl {
  if (!control) throw new GatewayError('not_found', 'This server was started without run-time fleet management');
  return control;
}

/** The answer of a change: the provider now (null once it left). */
function changed(gateway: Gateway, id: string, action: string): object {
  const entry = gateway.registry.get(id);
  return { id: entry?.id ?? id, action, provider: entry ? describeProvider(entry) : null };
}

/** Starts a removal (drain, then leave) and answers at once: `draining`, or `removed` when nothing was in flight. */
async function startRemoval(gateway: Gateway, control: FleetControl, id: string, reason: string, response: Response): Promise<void> {
  const entry = gateway.registry.get(id);
  const removing = control.remove(entry?.id ?? id, reason);
  if (!entry) {
    if (!(await removing)) throw new GatewayError('provider_not_found', `No provider ${id} in the fleet`, { param: 'id' });
    writeJson(response, { id, action: 'removed', provider: null });
    return;
  }
  removing.catch((error: unknown) => gateway.logger.error({ event: 'provider_remove_failed', provider: entry.id, err: error }, 'a removal failed'));
  writeJson(response, changed(gateway, entry.id, gateway.registry.get(entry.id) ? 'draining' : 'removed'));
}

/** `POST /nodes/add {url, models?, weight?, maxConcurrent?, pool?, apiKey?}`: registers a server, or updates the one with that URL. */
export function nodeAddRoute(gateway: Gateway, control: FleetControl | undefined, bodyLimit: number) {
  return async (request: Request, response: Response): Promise<void> => {
    const body = validateBody(nodeAddRequestSchema, await readJsonBody(request, bodyLimit));
    const { id, action } = await requireControl(control).upsertNode({ url: body.url, name: body.name, models: body.models, apiKey: body.apiKey }, membershipOf(body));
    writeJson(response, changed(gateway, id, action), action === 'added' ? 201 : 200);
  };
}

/** `POST /nodes/remove?node_url=...`: the node drains (its requests finish), then leaves. */
export function nodeRemoveRoute(gateway: Gateway, control: FleetControl | undefined) {
  return async (request: Request, response: Response): Promise<void> => {
    const url = request.query.node_url;
    if (typeof url !== 'string' || url.length === 0) throw new GatewayError('invalid_request', 'node_url (the URL the node was added with) is required', { param: 'node_url' });
    const fleet = requireControl(control);
    await startRemoval(gateway, fleet, fleet.nodeId(url), 'removed through the node API', response);
  };
}

/** `GET /nodes/status`: every provider (node) with its load and health, and the admission queue. */
export function nodesStatusRoute(gateway: Gateway) {
  return async (_request: Request, response: Response): Promise<void> => {
    const nodes = gateway.registry.list().map((entry) => {
      const view = describeProvider(entry);
      return {
        id: view.id,
        url: view.endpoint,
        kind: view.kind,
        models: view.models.map((offer) => offer.id),
        weight: view.weight,
        maxConcurrent: view.maxConcurrent,
        pool: view.pool,
        state: view.membership.state,
        healthy: view.healthy,
        inRotation: view.inRotation,
        inFlight: view.inFlight,
        served: view.served,
        errorRate: view.errorRate,
        ewmaLatencyMs: view.ewmaLatencyMs,
      };
    });
    writeJson(response, { nodes, queue: gateway.admission.stats() });
  };
}

/** `POST /admin/providers {address, weight?, maxConcurrent?, pool?, ...}`: adds a 0G provider (initialised first). */
export function adminProviderAddRoute(gateway: Gateway, control: FleetControl | undefined, bodyLimit: number) {
  return async (request: Request, response: Response): Promise<void> => {
    const body = validateBody(adminProviderAddSchema, await readJsonBody(request, bodyLimit));
    const fleet = requireControl(control);
    if (gateway.registry.get(body.address)) throw new GatewayError('invalid_request', `Provider ${body.address} is already in the fleet (PATCH it to change it)`, { param: 'address' });
    const id = await fleet.addZg(body.address, membershipOf(body));
    writeJson(response, changed(gateway, id, 'added'), 201);
  };
}

/** `DELETE /admin/providers/{id}`: the provider drains, then leaves. */
export function adminProviderRemoveRoute(gateway: Gateway, control: FleetControl | undefined) {
  return async (request: Request, response: Response): Promise<void> => {
    await startRemoval(gateway, requireControl(control), String(request.params.id ?? ''), 'removed by an operator', response);
  };
}

/** `PATCH /admin/providers/{id} {weight?, maxConcurrent?, pool?, ...}`: changes how it takes part, in place. */
export function adminProviderPatchRoute(gateway: Gateway, bodyLimit: number) {
  return async (request: Request, response: Response): Promise<void> => {
    const id = String(request.params.id ?? '');
    const body = validateBody(adminProviderPatchSchema, await readJsonBody(request, bodyLimit));
    const entry = gateway.registry.get(id);
    if (!entry) throw new GatewayError('provider_not_found', `No provider ${id} in the fleet`, { param: 'id' });
    gateway.registry.configure(entry.id, membershipOf(body));
    writeJson(response, changed(gateway, entry.id, 'updated'));
  };
}
