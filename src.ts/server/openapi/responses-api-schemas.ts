import { z } from 'zod';

/** `POST /v1/responses` bodies, as the gateway maps them to chat (any other field is a 400 naming it). */
export const responsesRequestSchema = z
  .object({
    model: z.string().optional().describe('A model group (GET /v1/models); default the gateway\'s default model.'),
    input: z.union([z.string(), z.array(z.object({}).passthrough())]).describe('A string (one user message), or items: messages (`input_text`/`output_text` parts or a string; `input_image` by URL for users), `function_call` and `function_call_output`.'),
    instructions: z.string().nullable().optional().describe('Becomes the system message (not carried to the next turn).'),
    previous_response_id: z.string().nullable().optional().describe('Continues a stored conversation, on the provider that served it (404 `response_not_found` when unknown, expired, `store: false` or another key\'s).'),
    tools: z.array(z.object({ type: z.literal('function'), name: z.string() }).passthrough()).optional().describe('Function tools only (built-in tools are refused).'),
    tool_choice: z.unknown().optional(),
    max_output_tokens: z.number().int().positive().nullable().optional().describe('Sent as `max_tokens`.'),
    temperature: z.number().nullable().optional(),
    top_p: z.number().nullable().optional(),
    text: z.object({ format: z.object({ type: z.enum(['text', 'json_object', 'json_schema']) }).passthrough() }).optional().describe('`json_schema` is sent as `response_format`.'),
    stream: z.boolean().optional(),
    store: z.boolean().optional().describe('Default true; false stores nothing of the conversation.'),
    metadata: z.record(z.string(), z.string()).optional().describe('Echoed back, not sent to the provider.'),
    user: z.string().optional(),
    parallel_tool_calls: z.boolean().optional(),
  })
  .describe('Fields with no chat equivalent (background, conversation, prompt, include, reasoning, built-in tools, input_file parts, ...) are refused with 400 `invalid_request` naming the field.');

/** A Response object, plus the gateway's `zg_chat_ids`. */
export const responseObjectSchema = z
  .object({
    id: z.string().describe('`resp_…`; `POST /v1/verify` takes it.'),
    object: z.literal('response'),
    created_at: z.number().int(),
    status: z.enum(['completed', 'incomplete', 'failed', 'in_progress']),
    model: z.string(),
    output: z.array(z.object({ type: z.enum(['message', 'function_call']), id: z.string() }).passthrough()),
    usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int(), total_tokens: z.number().int() }).passthrough().nullable(),
    previous_response_id: z.string().nullable(),
    zg_chat_ids: z.array(z.string()).describe('The chat completion ids this Response was built from (what the provider signed).'),
  })
  .passthrough();
