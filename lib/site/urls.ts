/** A file beside the page a site URL serves (`https://d1.cloudfront.net`, `…/`, `…/index.html`, `…/phone`). */
export function siteFileUrl(siteUrl: string, file: string): string {
  const base = /\.html?$/i.test(new URL(siteUrl).pathname) || siteUrl.endsWith('/') ? siteUrl : `${siteUrl}/`;
  return new URL(file, base).href;
}
