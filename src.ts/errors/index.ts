export { ERROR_CODES, type ErrorCode } from './error-codes.js';
export { GatewayError, toGatewayError, type GatewayErrorOptions, type OpenAIErrorBody } from './gateway-error.js';
