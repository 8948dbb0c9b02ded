import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { userSearchQuery } from './friends-query.ts';

const DEBOUNCE_MS = 250;

/** Find people by the start of their username or display name; each result links to the profile. */
export function UserSearch() {
  const { t } = useTranslation();
  const id = useId();
  const [text, setText] = useState('');
  const [term, setTerm] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setTerm(text.trim()), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  const search = useQuery(userSearchQuery(term));
  const items = search.data?.items ?? [];
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('friends.search')}</h2>
      <search>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setTerm(text.trim());
          }}
        >
          <div className="field">
            <label htmlFor={id}>{t('friends.searchLabel')}</label>
            <input
              id={id}
              type="search"
              value={text}
              maxLength={30}
              autoComplete="off"
              onChange={(e) => setText(e.target.value)}
            />
          </div>
        </form>
      </search>
      {term === '' ? null : search.isPending ? (
        <Loading />
      ) : search.isError ? (
        <ErrorMessage error={search.error} onRetry={() => void search.refetch()} />
      ) : (
        <>
          <p role="status" className="muted">
            {t('friends.found', { count: items.length })}
          </p>
          {items.length > 0 && (
            <ul className="people">
              {items.map((u) => (
                <li key={u.id}>
                  <Link to="/users/$username" params={{ username: u.username }}>
                    <span data-user-content>{u.displayName}</span>
                  </Link>{' '}
                  <span className="muted small" data-user-content>
                    @{u.username}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
