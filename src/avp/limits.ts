/**
 * Amazon Verified Permissions' data-plane limits, shared by the AVP door (which enforces them on
 * its callers, as AVP does) and the AVP engine (which splits its calls to respect them).
 */

/** BatchIsAuthorized and BatchIsAuthorizedWithToken take at most 30 requests per call. */
export const AVP_MAX_BATCH = 30;
