// The public `classic` namespace (DESIGN §3): the classic factories of src/connect, plus the helpers that make
// sense on a classic connection. Assembled here because helpers come after connect in the layering.
import { classic as factories } from '../connect/index.js';
import { buffiter } from './buffiter.js';
import { deliver } from './deliver.js';
import { describe } from './describe.js';
import { download } from './download.js';
import { interact } from './interact.js';
import { obtain } from './obtain.js';
import { redirectedStdio } from './redirectedStdio.js';
import { teleport } from './teleport.js';
import { upload } from './upload.js';
import { uploadModule } from './uploadModule.js';

/**
 * `classic.connect(...)`, `classic.connectSubproc()`, `classic.connectThread()`, `classic.connectChannel()`, each
 * resolving to a ClassicConnection, and the helpers for such a connection: `obtain`, `deliver`, `upload`,
 * `download`, `uploadModule`, `redirectedStdio`, `teleport`, `interact`, `describe`, `buffiter`.
 */
export const classic = Object.freeze({
  ...factories,
  obtain,
  deliver,
  upload,
  download,
  uploadModule,
  redirectedStdio,
  teleport,
  interact,
  describe,
  buffiter,
});
