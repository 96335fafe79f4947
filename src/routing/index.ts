export { createRouter } from './router.js';
export { createHttpRouteTable, type HttpRouteTable, type RouteMatch } from './http-routes.js';
export { normalizeTarget, type NormalizedTarget } from './normalize-path.js';
