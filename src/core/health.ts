/** Readiness of something besides the stores (issuers, sync engines). */
export interface ReadinessCheck {
  name: string;
  check(): { ready: boolean; detail?: Record<string, unknown> };
}
