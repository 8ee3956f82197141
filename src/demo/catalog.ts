// The demo circle: three devices and a library of 14 tracks spread across
// them so that the laptop holds only some of what it lists (tracks held by
// home-pc and phone stream to it from both).

export const DEMO_DEVICES = ['home-pc', 'laptop', 'phone'] as const
export type DemoDevice = (typeof DEMO_DEVICES)[number]

export interface DemoTrack {
  file: string
  title: string
  artist: string
  album: string
  genre: string
  bpm: number
  key: string
  seconds: number
  /** The devices whose music folder holds the file. */
  holders: readonly DemoDevice[]
}

const ALL = DEMO_DEVICES
const HOME_AND_PHONE = ['home-pc', 'phone'] as const

function track(title: string, artist: string, genre: string, bpm: number, key: string, seconds: number, holders: readonly DemoDevice[]): DemoTrack {
  return { file: `${artist} - ${title}.wav`, title, artist, album: 'Demo Circle', genre, bpm, key, seconds, holders }
}

export const DEMO_TRACKS: readonly DemoTrack[] = [
  track('Reykjavík Sunrise', 'Ólafur Beats', 'House', 124, 'A minor', 96, ALL),
  track('Pampa Groove', 'DJ Ñandú', 'Deep House', 120, 'F major', 90, ALL),
  track('Nuit Blanche', 'Chloé Vasquez', 'Techno', 132, 'E minor', 104, HOME_AND_PHONE),
  track('Fjord Bass', 'Søren Lyd', 'Drum & Bass', 174, 'G minor', 70, ['home-pc']),
  track('Slow Wind', 'MC Zoë', 'Hip-Hop', 90, 'C major', 80, ['laptop']),
  track('Autobahn Kinder', 'Kraftwerk Kids', 'Electro', 128, 'D minor', 100, HOME_AND_PHONE),
  track('Lisboa 5am', 'Ana Conceição', 'Minimal', 126, 'B minor', 112, ALL),
  track('Rheinwasser', 'Jürgen Dub', 'Dub Techno', 118, 'Eb major', 120, ['home-pc']),
  track('Kyoto Lanterns', 'Hana Mori', 'Deep House', 122, 'G major', 88, HOME_AND_PHONE),
  track('Mumbai Monsoon', 'Priya Raman', 'Afro House', 123, 'C minor', 94, ALL),
  track('Atlas Dust', 'Youssef El Amrani', 'Melodic Techno', 125, 'F# minor', 108, ['home-pc']),
  track('Grey Harbour', 'Niamh Ó Briain', 'Breakbeat', 130, 'D major', 76, ['laptop']),
  track('Sierra Cuts', 'Tomás Ruiz', 'Tech House', 127, 'A major', 84, ['home-pc', 'laptop']),
  track('Tallinn Night Bus', 'Kristjan Kask', 'Techno', 135, 'Bb minor', 64, ['phone']),
]
