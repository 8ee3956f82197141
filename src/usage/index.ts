export { UsageLog, readUsage, usagePath, USAGE_SAMPLE, MAX_SAMPLES } from './usage-log.ts'
export type { UsageLogOptions, UsageState, UsageView, DeviceSample } from './usage-log.ts'
