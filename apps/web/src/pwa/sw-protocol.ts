/** What the page and the service worker agree on. */

/** The page asks a waiting worker to take over (the person chose "Reload"). */
export const SKIP_WAITING = 'SKIP_WAITING';
/** Cache Storage name of the media variants (deleted when the user signs out). */
export const MEDIA_CACHE = 'kith-media';
export const MEDIA_MAX_ENTRIES = 300;
export const MEDIA_MAX_AGE_SECONDS = 30 * 24 * 3600;
