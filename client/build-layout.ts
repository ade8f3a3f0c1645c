/** The layout of the softphone build (client/build.ts), for the code that serves it without building it. */

/** Where the content-hashed assets go (`assets/app-<hash>.js`); the site serves this prefix as immutable. */
export const ASSETS_DIR = 'assets';
