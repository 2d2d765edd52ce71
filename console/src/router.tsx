import { AnchorHTMLAttributes, MouseEvent, useEffect, useState } from 'react';

/** Paths inside the console, without the /console base, so links can be pasted into a ticket. */
export const BASE = '/console';

export interface Location {
  path: string;
  search: URLSearchParams;
}

function current(): Location {
  const path = window.location.pathname.slice(BASE.length) || '/';
  return { path, search: new URLSearchParams(window.location.search) };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE}${to}`;
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return location;
}

/** `pattern` like `/events/:id`; the named segments, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const want = pattern.split('/');
  const have = trimmed.split('/');
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(have[i]);
    else if (want[i] !== have[i]) return null;
  }
  return params;
}

export function Link({
  to,
  ...props
}: { to: string } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    props.onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a {...props} href={`${BASE}${to}`} onClick={onClick} />;
}
