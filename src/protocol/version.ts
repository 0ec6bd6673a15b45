/** Protocol version spoken by this build: equal majors talk (DESIGN §5). */
export const PROTOCOL_VERSION = { major: 1, minor: 0 } as const;
/** First field of the handshake frame. */
export const MAGIC = 'netref';
/** What this end speaks beyond the base protocol; sent in the handshake. */
export const FEATURES: readonly string[] = [
  'pipelining',
  'release-counts',
  'oneway',
  'cancel',
  'describe',
  'iterate',
  'copy',
];
