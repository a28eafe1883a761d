/**
 * Client-side navigations that are not link clicks (router.push from a select,
 * a button) ask first through this event, so a page with unsaved work (the
 * pipeline editor) can hold them. Link clicks are caught by the page itself.
 */
export const NAVIGATION_REQUEST_EVENT = "sluice:navigation-request";

/** True when nothing objects to leaving for `href`; false when a page held it (and will navigate itself if the user agrees). */
export function requestNavigation(href: string): boolean {
  if (typeof window === "undefined") return true;
  return window.dispatchEvent(new CustomEvent(NAVIGATION_REQUEST_EVENT, { cancelable: true, detail: { href } }));
}
