/**
 * The one error type the SDK reports. The server answers a refused event with `{success: false, error: {code,
 * message}}` (docs/contract.md); this keeps that code so an app can branch on it, and adds the SDK's own codes
 * for what never reached the server (TIMEOUT, NOT_CONNECTED, QUEUE_FULL, CLOSED).
 */

/** Refusals a retry of the same request cannot change: the request itself is wrong or not allowed. */
export const FINAL_CODES = new Set(["FORBIDDEN", "INVALID_ARGUMENT", "NOT_FOUND", "PAYLOAD_TOO_LARGE", "QUEUE_FULL",
  "CLOSED", "LIMIT_EXCEEDED"]);

export class SwitchboardError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {string} [reason]
   */
  constructor(code, message, reason) {
    super(message || code);
    this.name = "SwitchboardError";
    this.code = code;
    if (reason !== undefined) this.reason = reason;
  }

  /** Whether the same request may succeed later (the backend is busy or away, the ack was lost, a fresh
   *  token is due…). */
  get transient() {
    return !FINAL_CODES.has(this.code);
  }

  /** A token past its `exp`: register again with a fresh one, then retry. */
  get tokenExpired() {
    return this.code === "UNAUTHENTICATED" && this.reason === "TOKEN_EXPIRED";
  }
}

/** The error carried by a failed ack reply, or by socket.io's own failure (timeout, dropped socket). */
export function fromReply(reply) {
  const error = reply && typeof reply === "object" ? reply.error : undefined;
  if (error && typeof error === "object") {
    return new SwitchboardError(String(error.code || "INTERNAL"), String(error.message || ""), error.reason);
  }
  return new SwitchboardError("INTERNAL", "malformed reply from the server");
}

/** socket.io-client rejects `emitWithAck` with a plain Error on timeout or when the socket drops. */
export function fromTransport(err) {
  if (err instanceof SwitchboardError) return err;
  return new SwitchboardError("TIMEOUT", err && err.message ? err.message : "no acknowledgement");
}
