export { describeError, ExitCode, exitCodeOf } from './exit.js';
export { main } from './program.js';
