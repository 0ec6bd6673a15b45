// The public surface of netref (DESIGN §3). Re-exports only.
export type { Channel, ChannelInfo, ChannelReceiver } from './channel/index.js';
export { StreamChannel, PortChannel, channelPair } from './channel/index.js';
export { PROTOCOL_VERSION } from './protocol/index.js';
export {
  Connection,
  Service,
  VoidService,
  byRef,
  byValue,
  currentCall,
  NetrefError,
  ConnectionClosedError,
  ProtocolError,
  RemoteError,
  AttributeError,
  TimeoutError,
  AuthenticationError,
  DiscoveryError,
  DEFAULT_PROTOCOL_CONFIG,
  serviceNames,
  isNetref,
} from './core/index.js';
export type {
  ConnectionOptions,
  PeerInfo,
  ProtocolConfig,
  HeartbeatOptions,
  CallInfo,
  Remote,
  RemotePromise,
  ServiceLike,
} from './core/index.js';
export type { Authenticator, AuthInfo, AuthResult } from './auth/index.js';
export { shsServer, shsClient, generateKeys, randomNetworkKey } from './auth/index.js';
export type { ShsServerOptions, ShsClientOptions, ShsCredentials, KeyPair } from './auth/index.js';
export { tlsAuthenticator } from './auth/index.js';
export type { TlsAuthenticatorOptions, TlsConnectOptions, TlsCredentials } from './auth/index.js';
export { connect, connectChannel, connectStream, connectPipes, type ConnectOptions } from './connect/index.js';
export { ReconnectingConnection, type ReconnectOptions, type ReconnectState } from './connect/index.js';
export { connectStdpipes, connectSubproc, type SubprocOptions, type SubprocConnection } from './connect/index.js';
export { ClassicService } from './core/index.js';
export { type ClassicConnection, type ClassicMembers } from './connect/index.js';
export { classic } from './helpers/index.js';
export {
  Server,
  ForkingServer,
  OneShotServer,
  type ServerOptions,
  type ForkingServerOptions,
  type ForkedConnection,
} from './server/index.js';
export { timed, oneway, withSignal, setAttr, delAttr, release } from './helpers/index.js';
export { buffiter, obtain, deliver, describe, teleport, type BuffiterOptions } from './helpers/index.js';
export {
  upload,
  download,
  uploadModule,
  redirectedStdio,
  interact,
  type TransferOptions,
  type TransferProgress,
  type UploadedModule,
  type RedirectedStdio,
  type RedirectedStdioOptions,
  type InteractOptions,
  type InteractResult,
} from './helpers/index.js';
export type { MemberDescription } from './core/index.js';
export {
  connectThread,
  connectWorker,
  connectParent,
  type ThreadOptions,
  type ThreadConnection,
  type WorkerStartOptions,
} from './connect/index.js';
export { ThreadedServer, type ThreadedServerOptions, type ThreadedConnectionInfo } from './server/index.js';
export {
  discover,
  announce,
  Announcement,
  RegistryServer,
  RegistryService,
  type DiscoveredService,
  type DiscoverOptions,
  type AnnounceOptions,
  type AnnounceTarget,
  type RegistryServerOptions,
  type RegistryEntry,
} from './registry/index.js';
export { connectByService, type ConnectByServiceOptions } from './connect/index.js';
