export type {
  ErrorCode,
  InputPosition,
  RollcallErrorData,
  RollcallErrorKind,
  RollcallErrorOptions,
  ShardPlace,
} from './errors.js';
export {
  ErrorCodes,
  errorFromData,
  FileError,
  fileErrorFrom,
  formatPosition,
  IndexCorruptError,
  InputError,
  InvalidArgumentError,
  isRollcallError,
  RollcallError,
} from './errors.js';
