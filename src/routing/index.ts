export { createRouter } from './router.js';
