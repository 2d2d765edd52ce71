import { FormEvent, ReactNode, useState } from 'react';
import { query } from './api';
import { navigate } from './router';
import { ErrorBox, Field, isoToLocal, Loading, localToIso, MoreButton, usePages } from './ui';

export type Pages<T> = ReturnType<typeof usePages<T>>;

/**
 * A list page's filters, kept in its URL so a filtered list can be shared: those applied, the
 * form being edited, and the navigation that applies or clears them. `times` are datetime-local
 * fields: ISO instants in the URL, the browser's local time in the form.
 */
export function useFilters<Name extends string>(
  path: string,
  names: readonly Name[],
  search: URLSearchParams,
  times: readonly Name[] = [],
) {
  const applied = Object.fromEntries(names.map((name) => [name, search.get(name) ?? ''])) as Record<
    Name,
    string
  >;
  const [form, setForm] = useState(() => {
    const local = { ...applied };
    for (const name of times) local[name] = isoToLocal(applied[name] || null);
    return local;
  });
  const set = (name: Name) => (event: { target: { value: string } }) =>
    setForm({ ...form, [name]: event.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const values: Record<string, string | undefined> = { ...form };
    for (const name of times) values[name] = localToIso(form[name]);
    navigate(`${path}${query(values)}`);
  };
  return {
    applied,
    form,
    set,
    submit,
    filtered: names.some((name) => applied[name]),
    clear: () => navigate(path),
  };
}

/** The filter form above a list: its fields, the submit button, and Clear once filters apply. */
export function FilterForm({
  label,
  filters,
  submitLabel = 'Search',
  children,
}: {
  label: string;
  filters: { submit(event: FormEvent): void; filtered: boolean; clear(): void };
  submitLabel?: string;
  children: ReactNode;
}) {
  return (
    <form className="filters" onSubmit={filters.submit} aria-label={label}>
      {children}
      <div className="filter-actions">
        <button type="submit" className="primary">
          {submitLabel}
        </button>
        {filters.filtered && (
          <button type="button" onClick={filters.clear}>
            Clear
          </button>
        )}
      </div>
    </form>
  );
}

/** A select whose first choice, "any", applies no filter. */
export function ChoiceField({
  label,
  value,
  onChange,
  any,
  choices,
}: {
  label: string;
  value: string;
  onChange(event: { target: { value: string } }): void;
  any: string;
  choices: readonly (string | { value: string; label: string })[];
}) {
  return (
    <Field label={label}>
      {(props) => (
        <select {...props} value={value} onChange={onChange}>
          <option value="">{any}</option>
          {choices.map((choice) =>
            typeof choice === 'string' ? (
              <option key={choice}>{choice}</option>
            ) : (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ),
          )}
        </select>
      )}
    </Field>
  );
}

/** A list's pages: the error, what to show when there is nothing, the items, "Load more". */
export function PagedList<T>({
  pages,
  empty,
  children,
}: {
  pages: Pages<T>;
  empty: ReactNode;
  children(items: T[]): ReactNode;
}) {
  return (
    <>
      <ErrorBox error={pages.error} />
      {pages.items.length === 0 && !pages.loading && !pages.error && empty}
      {pages.items.length > 0 && children(pages.items)}
      {pages.loading && <Loading />}
      <MoreButton pages={pages} />
    </>
  );
}
