import { FormEvent, ReactNode, StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { adminKey, ApiError, onKeyChange, signIn, signOut } from './api';
import { ContactPage, ContactsPage } from './pages/contacts';
import { ConversationPage, ConversationsPage } from './pages/conversations';
import { DeliveriesPage, DeliveryPage } from './pages/deliveries';
import { EventPage, EventsPage } from './pages/events';
import { OverviewPage } from './pages/overview';
import { PlaygroundPage } from './pages/playground';
import { SourcePage, SourcesPage, NewSourcePage } from './pages/sources';
import { NewSubscriptionPage, SubscriptionPage, SubscriptionsPage } from './pages/subscriptions';
import { Link, Location, match, useLocation } from './router';
import { ErrorBox, Field } from './ui';
import './styles.css';

const NAV: [string, string][] = [
  ['/', 'Overview'],
  ['/events', 'Events'],
  ['/deliveries', 'Deliveries'],
  ['/subscriptions', 'Subscriptions'],
  ['/playground', 'Playground'],
  ['/sources', 'Sources'],
  ['/conversations', 'Conversations'],
  ['/contacts', 'Contacts'],
];

const ROUTES: [string, (params: Record<string, string>, location: Location) => ReactNode][] = [
  ['/', () => <OverviewPage />],
  ['/events', (_, location) => <EventsPage search={location.search} />],
  ['/events/:id', ({ id }) => <EventPage id={id} />],
  ['/deliveries', (_, location) => <DeliveriesPage search={location.search} />],
  ['/deliveries/:id', ({ id }) => <DeliveryPage id={id} />],
  ['/subscriptions', () => <SubscriptionsPage />],
  ['/subscriptions/new', () => <NewSubscriptionPage />],
  ['/subscriptions/:id', ({ id }) => <SubscriptionPage id={id} />],
  ['/playground', (_, location) => <PlaygroundPage search={location.search} />],
  ['/sources', () => <SourcesPage />],
  ['/sources/new', () => <NewSourcePage />],
  ['/sources/:id', ({ id }) => <SourcePage id={id} />],
  ['/conversations', (_, location) => <ConversationsPage search={location.search} />],
  ['/conversations/:id', ({ id }) => <ConversationPage id={id} />],
  ['/contacts', (_, location) => <ContactsPage search={location.search} />],
  ['/contacts/:id', ({ id }) => <ContactPage id={id} />],
];

function App() {
  const [signedIn, setSignedIn] = useState(adminKey() !== null);
  useEffect(() => onKeyChange(() => setSignedIn(adminKey() !== null)), []);
  const location = useLocation();
  if (!signedIn) return <SignIn />;
  let page: ReactNode = null;
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, location.path);
    if (params) {
      page = render(params, location);
      break;
    }
  }
  const section = `/${location.path.split('/')[1] ?? ''}`;
  return (
    <div className="layout">
      <header>
        <Link to="/" className="brand">
          webhook-router
        </Link>
        <nav aria-label="Console">
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} aria-current={section === to ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <button type="button" className="small" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {page ?? (
          <div>
            <h1>Not found</h1>
            <p>
              No console page at <code>{location.path}</code>.{' '}
              <Link to="/">Go to the overview</Link>.
            </p>
          </div>
        )}
      </main>
    </div>
  );
}

function SignIn() {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    signIn(key.trim()).then(
      () => setBusy(false),
      (failure: unknown) => {
        setBusy(false);
        setError(
          failure instanceof ApiError && failure.status === 401
            ? new Error('The router refused this key. Use one of its ADMIN_API_KEYS.')
            : failure,
        );
      },
    );
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>webhook-router console</h1>
        <p className="muted">
          Sign in with an admin key (one of the router’s <code>ADMIN_API_KEYS</code>). It is kept in
          this browser tab only and sent to the admin API as <code>Authorization: Bearer</code>.
        </p>
        <Field label="Admin key">
          {(props) => (
            <input
              {...props}
              type="password"
              name="adminKey"
              autoComplete="current-password"
              autoFocus
              required
              value={key}
              onChange={(event) => setKey(event.target.value)}
            />
          )}
        </Field>
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy || !key.trim()}>
          Sign in
        </button>
      </form>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
