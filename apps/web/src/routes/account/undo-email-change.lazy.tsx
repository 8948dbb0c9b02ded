import { useMutation } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { api, call } from '../../api/client.ts';
import { useTranslation } from '../../i18n/index.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { useLinkToken } from './account-query.ts';

export const Route = createLazyRoute('/undo-email-change')({ component: UndoEmailChangeScreen });

/**
 * The link sent to the previous address: says what undoing does (the old address back, every device
 * signed out) and waits for a click — a mail scanner that opens links must not undo anything.
 */
function UndoEmailChangeScreen() {
  const { t } = useTranslation();
  const token = useLinkToken();
  const { session } = Route.useRouteContext();
  const undo = useMutation({
    mutationFn: (value: string) =>
      call(api.POST('/api/v1/auth/email-change/undo', { body: { token: value } })),
    onSuccess: async () => {
      // every session was revoked on the server: drop this tab's too
      if (session.getState().status === 'signedIn') await session.signOut().catch(() => undefined);
    },
  });
  return (
    <section className="page narrow">
      <h1>{t('account.undoChange.title')}</h1>
      {!token ? (
        <p className="error">{t('account.undoChange.noToken')}</p>
      ) : undo.isSuccess ? (
        <>
          <p role="status">{t('account.undoChange.done')}</p>
          <Link to="/forgot-password" className="button primary">
            {t('account.undoChange.resetLink')}
          </Link>
        </>
      ) : (
        <>
          <p>{t('account.undoChange.explain')}</p>
          {undo.error && <ErrorMessage error={undo.error} />}
          <button
            type="button"
            className="button primary"
            disabled={undo.isPending}
            onClick={() => undo.mutate(token)}
          >
            {undo.isPending ? t('account.undoChange.submitting') : t('account.undoChange.submit')}
          </button>
        </>
      )}
    </section>
  );
}
