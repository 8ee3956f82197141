// Everything the owner has in common across devices comes from the BIP-39
// recovery phrase: the owner key, the circle secret and the backup key. Each
// is an HKDF-SHA256 expansion of the BIP-39 seed under its own label, so
// knowing one derived value tells nothing about the others.
import { hkdfSync } from 'node:crypto'
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { keyPairFromSeed, type KeyPair } from './keys.ts'
import { IdentityError } from './errors.ts'

const HKDF_SALT = 'djcloud/v1'

export interface OwnerSecrets {
  phrase: string
  owner: KeyPair
  /** Keys the circle's torrents and DHT salts; shared with own devices. */
  circleSecret: Uint8Array
  /** Encrypts metadata backups; never leaves admin devices. */
  backupKey: Uint8Array
}

/** A new 24-word phrase (256 bits of entropy). */
export function newRecoveryPhrase(): string {
  return generateMnemonic(wordlist, 256)
}

export function normalizePhrase(phrase: string): string {
  return phrase.normalize('NFKD').trim().toLowerCase().split(/\s+/).join(' ')
}

export function deriveOwnerSecrets(phrase: string): OwnerSecrets {
  const normalized = normalizePhrase(phrase)
  if (!validateMnemonic(normalized, wordlist)) {
    throw new IdentityError('ERR_BAD_PHRASE', 'the recovery phrase is not a valid BIP-39 English phrase (check the words and their order)')
  }
  const seed = mnemonicToSeedSync(normalized)
  const expand = (label: string) => new Uint8Array(hkdfSync('sha256', seed, HKDF_SALT, label, 32))
  return {
    phrase: normalized,
    owner: keyPairFromSeed(expand('owner-key')),
    circleSecret: expand('circle-secret'),
    backupKey: expand('backup-key'),
  }
}
