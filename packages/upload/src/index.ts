export type { CellsOptions } from './cells.js';
export { uploadFromCells } from './cells.js';
export type { PhoneColumnOptions } from './columns.js';
export { detectPhoneColumn, PhoneHeaderScore, scorePhoneHeader } from './columns.js';
export { DELIMITER_CANDIDATES, detectDelimiter } from './delimiter.js';
export type { EncodingGuess } from './encoding.js';
export { sniffEncoding } from './encoding.js';
export {
  DEFAULT_BATCH_SIZE,
  MAX_BATCH_SIZE,
  MAX_CELL_CHARS,
  MAX_HEADER_CHARS,
  openUpload,
} from './reader.js';
export type {
  UploadBatch,
  UploadEncoding,
  UploadFileReader,
  UploadOptions,
  UploadReader,
} from './types.js';
