import { createLazyRoute, useNavigate } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { Composer } from '../../ui/compose/composer.tsx';

export const Route = createLazyRoute('/compose')({ component: ComposeScreen });

function ComposeScreen() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <section className="page">
      <h1>{t('compose.title')}</h1>
      <Composer onPublished={() => void navigate({ to: '/' })} />
    </section>
  );
}
