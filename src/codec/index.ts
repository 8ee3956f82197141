export { encode, decode, asDict, asBytes, asString, asInt, asList, BencodeError, DEFAULT_LIMITS } from './bencode.ts'
export type { BValue, BDict, BInput, DecodeLimits } from './bencode.ts'
export { base32Encode, base32Decode } from './base32.ts'
