// A large JSON answer read as it arrives: the members of one container of its
// top-level object ({"cues": {"<audio>": [...], ...}}, {"tracks": [...]}),
// each parsed on its own. Fetched whole and parsed at once, the 15 MB cue
// answer of a 20,000-track library takes its bytes twice, its text and the
// parser's work at one time (~90 MB of a process's peak); here only one
// member's text is held at a time.

/**
 * Calls onEntry with each element of the array (its index) or each member of
 * the object (its key) under `key` of the document's top-level object, in
 * order, as the chunks arrive. Other top-level members are passed over.
 * Malformed JSON throws a SyntaxError (as JSON.parse does).
 */
export async function jsonEntries(chunks: AsyncIterable<Uint8Array | string>, key: string, onEntry: (key: string | number, value: unknown) => void): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let depth = 0
  let inString = false
  let escaped = false
  /** The last string that ended at depth 1 (a key, when a container follows). */
  let lastKey = ''
  let keyText = ''
  let collectingKey = false
  let wanted = false // inside the container under `key`
  let isArray = false
  let index = 0
  let pending = '' // the current member's text from earlier chunks
  let found = false
  const member = (text: string) => {
    if (text.trim() === '') return
    if (isArray) onEntry(index++, JSON.parse(text))
    else {
      const one = JSON.parse(`{${text}}`) as Record<string, unknown>
      for (const k in one) onEntry(k, one[k])
    }
  }
  const feed = (chunk: string) => {
    let start = 0
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i)
      if (inString) {
        if (escaped) escaped = false
        else if (c === 92) escaped = true // \
        else if (c === 34) {
          inString = false // "
          if (collectingKey) {
            lastKey = JSON.parse(`"${keyText + chunk.slice(start, i)}"`) as string
            collectingKey = false
          }
        }
        continue
      }
      if (c === 34) {
        inString = true
        if (depth === 1) {
          collectingKey = true
          keyText = ''
          start = i + 1
        }
      } else if (c === 123 || c === 91) {
        // { [
        depth++
        if (depth === 2 && lastKey === key && !found) {
          wanted = found = true
          isArray = c === 91
          start = i + 1
          pending = ''
        }
      } else if (c === 125 || c === 93) {
        // } ]
        if (wanted && depth === 2) {
          member(pending + chunk.slice(start, i))
          pending = ''
          wanted = false
        }
        depth--
      } else if (c === 44 && wanted && depth === 2) {
        // , between members
        member(pending + chunk.slice(start, i))
        pending = ''
        start = i + 1
      }
    }
    if (collectingKey) keyText += chunk.slice(start)
    else if (wanted) pending += chunk.slice(start)
  }
  for await (const chunk of chunks) feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))
  feed(decoder.decode())
  if (depth !== 0 || inString) throw new SyntaxError('the JSON answer ends early')
}
