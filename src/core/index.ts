export { Connection, sessionOf, type ConnectionOptions, type PeerInfo } from './Connection.js';
export { Service, VoidService, serviceNames, serviceInstance, type ServiceLike } from './Service.js';
export { ClassicService } from './ClassicService.js';
export {
  loadServiceModule,
  moduleHref,
  netrefModule,
  parseServiceModule,
  toServiceModule,
  type ServiceModule,
} from './ServiceModule.js';
export { readPath, isThenable } from './accessCheck.js';
export { byRef, byValue } from './marks.js';
export { currentCall, type CallInfo } from './currentCall.js';
export { accessCheck, type AccessOp } from './accessCheck.js';
export { DEFAULT_PROTOCOL_CONFIG, resolveProtocolConfig, type ProtocolConfig } from './ProtocolConfig.js';
export type { HeartbeatOptions } from './Session.js';
export { nodeOf, isNetref, makeNetref, type CallOptions, type Node } from './netref.js';
export {
  NetrefError,
  ConnectionClosedError,
  ProtocolError,
  RemoteError,
  AttributeError,
  TimeoutError,
  AuthenticationError,
  DiscoveryError,
} from '../protocol/index.js';
export type { Remote, RemotePromise } from './Remote.js';
export { RemoteIterator, type ChunkOptions } from './RemoteIterator.js';
export { copyValue } from './copyValue.js';
export { type MemberDescription } from './describeMembers.js';
export { settlesWithin } from './settlesWithin.js';
