import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startDevnetGateway, type DevnetGateway } from '../helpers/devnet-gateway.js';

/** The Responses API on the devnet's simulated 0G providers: served, pinned across turns, verified by its resp_ id. */

let setup: DevnetGateway;
let client: OpenAI;
let model: string;

before(async () => {
  setup = await startDevnetGateway();
  client = new OpenAI({ baseURL: `${setup.gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  model = setup.devnet.providers[0]?.model ?? '';
});

after(async () => {
  await setup?.close();
});

async function verify(id: string): Promise<{ status: number; body: { isValid?: boolean; verifiable?: boolean; chatId?: string; provider?: string } }> {
  const response = await fetch(`${setup.gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
  return { status: response.status, body: (await response.json()) as { isValid?: boolean; verifiable?: boolean; chatId?: string; provider?: string } };
}

test('a Response from a 0G provider verifies by its resp_ id (JSON and streamed), as its chat id does', async () => {
  const { data: response, response: http } = await client.responses.create({ model, input: 'prove this answer' }).withResponse();
  assert.ok(response.output_text.length > 0);
  const chatId = (response as unknown as { zg_chat_ids: string[] }).zg_chat_ids[0] ?? '';
  const byResponse = await verify(response.id);
  assert.equal(byResponse.status, 200);
  assert.deepEqual({ verifiable: byResponse.body.verifiable, isValid: byResponse.body.isValid, chatId: byResponse.body.chatId }, { verifiable: true, isValid: true, chatId });
  assert.equal(byResponse.body.provider?.toLowerCase(), http.headers.get('x-provider-address')?.toLowerCase());
  const byChat = await verify(chatId);
  assert.equal(byChat.body.isValid, true);

  const stream = await client.responses.create({ model, input: 'prove this stream', stream: true });
  let completed: OpenAI.Responses.Response | undefined;
  let text = '';
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') completed = event.response;
  }
  assert.ok(completed && text.length > 0);
  const message = completed.output[0];
  assert.equal(message?.type === 'message' && message.content[0]?.type === 'output_text' ? message.content[0].text : undefined, text);
  const streamed = await verify(completed.id);
  assert.deepEqual({ status: streamed.status, isValid: streamed.body.isValid }, { status: 200, isValid: true });
});

test('previous_response_id across three turns stays on the provider that served the first', async () => {
  const sameModel = setup.devnet.providers.filter((provider) => provider.model === model);
  assert.ok(sameModel.length >= 2, 'the devnet has more than one provider of the model, so staying on one is the pin');
  const providers: string[] = [];
  let previous: string | undefined;
  for (const word of ['first', 'second', 'third']) {
    const { data, response } = await client.responses.create({ model, input: word, ...(previous ? { previous_response_id: previous } : {}) }).withResponse();
    providers.push(response.headers.get('x-provider-address') ?? '');
    previous = data.id;
  }
  assert.equal(new Set(providers).size, 1, providers.join(', '));
});
