// The web app manifest: what a phone needs to add djcloud to its home screen
// and open it as an app of its own (standalone, the UI's colours), scoped to
// the node's whole UI.

export interface ManifestIcon {
  src: string
  sizes: string
  type: 'image/png'
  purpose: 'any' | 'maskable'
}

export interface WebManifest {
  id: string
  name: string
  short_name: string
  description: string
  start_url: string
  scope: string
  display: 'standalone'
  background_color: string
  theme_color: string
  icons: ManifestIcon[]
}

/** The UI's --bg and --panel (styles.css): the splash screen and the bar above the app. */
export const BACKGROUND_COLOUR = '#14161b'
export const THEME_COLOUR = '#1c1f26'

export function webManifest(icons: ManifestIcon[]): WebManifest {
  return {
    id: '/',
    name: 'djcloud',
    short_name: 'djcloud',
    description: "Your music library, served by all of your own devices.",
    start_url: '/',
    scope: '/',
    display: 'standalone',
    background_color: BACKGROUND_COLOUR,
    theme_color: THEME_COLOUR,
    icons,
  }
}
