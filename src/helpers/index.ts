export { timed } from './timed.js';
export { oneway } from './oneway.js';
export { withSignal } from './withSignal.js';
export { setAttr, delAttr } from './setAttr.js';
export { release } from './release.js';
