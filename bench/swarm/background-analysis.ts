// What a node's background analysis puts beside streaming: an AnalysisPool
// of one low-priority worker in the downloader's process, analysing a track
// over and over while the download or the reads are timed (bench/swarm,
// "while analysing"). The worker is warm (essentia loaded, one file done)
// before timing starts, as it is in a node that has been analysing a while.
import { AnalysisPool } from '../../src/analysis/index.ts'

export interface BackgroundAnalysis {
  /** Stops after the file in progress; how many files were analysed since start(). */
  stop(): Promise<number>
}

export async function startBackgroundAnalysis(file: string): Promise<BackgroundAnalysis> {
  const pool = new AnalysisPool({ size: 1, priority: 'low' })
  await pool.analyze(file)
  let stopped = false
  let done = 0
  const loop = (async () => {
    while (!stopped) {
      await pool.analyze(file)
      if (!stopped) done++
    }
  })().catch((err: Error) => {
    if (!stopped) throw err // close() rejects the file in progress: that is the stop
  })
  return {
    async stop() {
      stopped = true
      await pool.close()
      await loop
      return done
    },
  }
}
