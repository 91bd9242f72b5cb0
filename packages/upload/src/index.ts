export { MAX_COUNTRY_CHARS } from './batch.js';
export type { CellsOptions } from './cells.js';
export { uploadFromCells } from './cells.js';
export type { ColumnOptions, PhoneColumnOptions, UploadColumns } from './columns.js';
export { detectColumns, detectPhoneColumns, PhoneHeaderScore, scorePhoneHeader } from './columns.js';
export type { CountryColumnOptions } from './country-column.js';
export { detectCountryColumn, isCountryHeader } from './country-column.js';
export { DELIMITER_CANDIDATES, detectDelimiter } from './delimiter.js';
export type { EncodingGuess } from './encoding.js';
export { sniffEncoding } from './encoding.js';
export {
  DEFAULT_BATCH_SIZE,
  MAX_BATCH_SIZE,
  MAX_CELL_CHARS,
  MAX_HEADER_CHARS,
  validateOptions as checkUploadOptions,
} from './options.js';
export { MAX_PAYLOAD_BYTES } from './payload.js';
export { openUpload } from './reader.js';
export type {
  UploadBatch,
  UploadEncoding,
  UploadFileReader,
  UploadOptions,
  UploadReader,
} from './types.js';
export type { UploadFilesReader } from './uploads.js';
export { expandUploadPaths, openUploads } from './uploads.js';
