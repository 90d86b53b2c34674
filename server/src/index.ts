/** Public API of `@kentongan/server`. */
export { startServer } from './server.ts';
export type { RunningServer, ServerStats, StartServerDeps } from './server.ts';
export { buildApp, API_PREFIX, BODY_LIMIT_BYTES } from './app.ts';
export type { AppDeps } from './app.ts';
export { parseServerConfig, loadServerConfig } from './config/load.ts';
export { serverConfigSchema } from './config/schema.ts';
export type { ServerConfig, ServerConfigInput, Rule, ThresholdRule, ChannelConfig } from './config/schema.ts';
export { hashPassword, verifyPassword } from './broker/passwords.ts';
export { ConfigError, ServerError, StorageError } from './errors.ts';
export { createLogger } from './logger.ts';
export { openDatabase, DATABASE_FILE } from './storage/database.ts';
export { SqliteReadingStore } from './storage/sqlite-reading-store.ts';
export type { ReadingStore, InsertResult, HistoryQuery, SequenceStats, StoredReading } from './storage/reading-store.ts';
export type { Alert, AlertChange, AlertEngine, AlertEngineStats, AlertState } from './alerts/types.ts';
