/** Base class of every error netref itself raises. */
export class NetrefError extends Error {
  override name = 'NetrefError';
}

/** The connection is closed, or closed while the operation was pending. `message` names the reason. */
export class ConnectionClosedError extends NetrefError {
  override name = 'ConnectionClosedError';
}

/** The peer broke the protocol: an undecodable or oversized frame, an unknown message, a version mismatch. */
export class ProtocolError extends NetrefError {
  override name = 'ProtocolError';
}

/** An error thrown on the other end whose class has no local equivalent; `remoteName` is its name there. */
export class RemoteError extends NetrefError {
  override name = 'RemoteError';
  remoteName: string;
  constructor(message: string, remoteName: string, options?: { cause?: unknown }) {
    super(message, options);
    this.remoteName = remoteName;
  }
}

/** A name is not reachable on a netref (refused by the exposure rules), or does not exist. */
export class AttributeError extends NetrefError {
  override name = 'AttributeError';
}

/** A call's reply did not arrive in time (`syncRequestTimeout`, `timed()`), or a handshake took too long. */
export class TimeoutError extends NetrefError {
  override name = 'TimeoutError';
}

/** The authenticator refused the connection. */
export class AuthenticationError extends NetrefError {
  override name = 'AuthenticationError';
}

/** Discovery found nothing, or nothing that answered. */
export class DiscoveryError extends NetrefError {
  override name = 'DiscoveryError';
}

/** Error classes that arrive as themselves when thrown on the other end. */
export const knownErrorClasses: Record<string, new (message?: string, options?: { cause?: unknown }) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  NetrefError,
  ConnectionClosedError,
  ProtocolError,
  AttributeError,
  TimeoutError,
  AuthenticationError,
  DiscoveryError,
};
