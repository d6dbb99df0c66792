export * from './balancer/index.js';
export * from './sessions/index.js';
