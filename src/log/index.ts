export { logger, shortId } from './logger.ts'
export type { Logger } from './logger.ts'
