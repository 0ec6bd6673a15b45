export type { Authenticator, AuthInfo, AuthResult } from './Authenticator.js';
