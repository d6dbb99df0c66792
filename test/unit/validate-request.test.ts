import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { estimateInputTokens, estimatePromptTokens, GatewayError, MAX_EMBEDDING_INPUTS, MAX_JSON_DEPTH, validateChatRequest, validateEmbeddingRequest, validateTextCompletionRequest, validateVerifyRequest } from 'zg-gateway';

function invalid(action: () => unknown): { code: string; param: string | null; message: string } {
  try {
    action();
  } catch (error) {
    assert.ok(GatewayError.isInstance(error));
    return { code: error.code, param: error.param, message: error.message };
  }
  assert.fail('expected invalid_request');
}

describe('validateChatRequest', () => {
  test('accepts OpenAI bodies and keeps fields it does not know (they go to the provider)', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi', custom: 1 }], tools: [{ type: 'function' }], n: 3, logprobs: true };
    assert.deepEqual(validateChatRequest(body), body);
    assert.deepEqual(validateChatRequest({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] }).messages, [{ role: 'user', content: [{ type: 'text', text: 'x' }] }]);
  });

  test('names the offending field', () => {
    assert.deepEqual(invalid(() => validateChatRequest({})).param, 'messages');
    assert.deepEqual(invalid(() => validateChatRequest({ messages: [] })).param, 'messages');
    assert.deepEqual(invalid(() => validateChatRequest({ messages: [{ role: 'wizard', content: 'x' }] })).param, 'messages.0.role');
    assert.deepEqual(invalid(() => validateChatRequest({ messages: [{ role: 'user', content: 5 }] })).param, 'messages.0.content');
    assert.deepEqual(invalid(() => validateChatRequest({ messages: [{ role: 'user' }], temperature: 3 })).param, 'temperature');
    assert.deepEqual(invalid(() => validateChatRequest({ messages: [{ role: 'user' }], stream: 'yes' })).param, 'stream');
    assert.deepEqual(invalid(() => validateChatRequest({ messages: [{ role: 'user' }], n: 0 })).param, 'n');
    assert.deepEqual(invalid(() => validateChatRequest([1])).param, null);
    assert.equal(invalid(() => validateChatRequest('text')).code, 'invalid_request');
  });

  test(`refuses bodies nested deeper than ${MAX_JSON_DEPTH} levels`, () => {
    let deep: unknown = 'x';
    for (let level = 0; level < MAX_JSON_DEPTH + 2; level++) deep = [deep];
    assert.match(invalid(() => validateChatRequest({ messages: [{ role: 'user' }], extra: deep })).message, /nests deeper/);
  });
});

describe('validateTextCompletionRequest and validateVerifyRequest', () => {
  test('prompts may be a string, strings or token arrays', () => {
    for (const prompt of ['hi', ['a', 'b'], [1, 2], [[1], [2, 3]]]) assert.deepEqual(validateTextCompletionRequest({ prompt }).prompt, prompt);
    assert.equal(invalid(() => validateTextCompletionRequest({ prompt: 5 })).param, 'prompt');
    assert.equal(invalid(() => validateTextCompletionRequest({})).param, 'prompt');
  });

  test('verify needs a non-empty string id', () => {
    assert.deepEqual(validateVerifyRequest({ id: 'chatcmpl-1' }), { id: 'chatcmpl-1' });
    for (const body of [{}, { id: 7 }, { id: '' }, null]) assert.equal(invalid(() => validateVerifyRequest(body)).param, 'id');
  });
});

describe('validateEmbeddingRequest', () => {
  test('accepts a string, strings, a token array and token arrays, keeping unknown fields', () => {
    for (const input of ['x', ['a', 'b'], [1, 2, 3], [[1, 2], [3]]]) {
      const body = { model: 'e', input, encoding_format: 'base64', dimensions: 8, user: 'u', extra: true };
      assert.deepEqual(validateEmbeddingRequest(body), body);
    }
  });

  test('names the offending field; an over-long input array is named as `input` with the limit', () => {
    assert.equal(invalid(() => validateEmbeddingRequest({ input: 'x' })).param, 'model');
    assert.equal(invalid(() => validateEmbeddingRequest({ model: 'e' })).param, 'input');
    assert.equal(invalid(() => validateEmbeddingRequest({ model: 'e', input: [] })).param, 'input');
    assert.equal(invalid(() => validateEmbeddingRequest({ model: 'e', input: [[]] })).param, 'input.0');
    assert.equal(invalid(() => validateEmbeddingRequest({ model: 'e', input: 'x', encoding_format: 'hex' })).param, 'encoding_format');
    assert.equal(invalid(() => validateEmbeddingRequest({ model: 'e', input: 'x', dimensions: 1.5 })).param, 'dimensions');
    const over = invalid(() => validateEmbeddingRequest({ model: 'e', input: Array.from({ length: MAX_EMBEDDING_INPUTS + 1 }, () => 'a') }));
    assert.equal(over.param, 'input');
    assert.match(over.message, /at most 2048 items/);
    assert.equal(validateEmbeddingRequest({ model: 'e', input: Array.from({ length: MAX_EMBEDDING_INPUTS }, () => 'a') }).model, 'e');
  });

  test('the input token estimate: four characters a token per string, token arrays exactly', () => {
    assert.equal(estimateInputTokens('abcdefgh'), 2);
    assert.equal(estimateInputTokens(['abc', 'abcde']), 3);
    assert.equal(estimateInputTokens([5, 6, 7]), 3);
    assert.equal(estimateInputTokens([[5, 6], [7]]), 3);
    assert.equal(estimatePromptTokens({ model: 'e', input: ['abcd', 'abcd'] }), 2);
  });
});
