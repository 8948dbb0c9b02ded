import { createLazyRoute } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { DeleteAccountSection } from './delete-section.tsx';
import { EmailSection } from './email-section.tsx';
import { ExportSection } from './export-section.tsx';
import { MutesSection } from './mutes-section.tsx';
import { PasswordSection } from './password-section.tsx';
import { PushSection } from './push-section.tsx';
import { SecuritySection } from './security-section.tsx';
import { SessionsSection } from './sessions-section.tsx';
import '../profile/profile.css';
import './settings.css';

export const Route = createLazyRoute('/settings')({ component: SettingsScreen });

function SettingsScreen() {
  const { t } = useTranslation();
  const { session } = Route.useRouteContext();
  return (
    <div className="page settings">
      <h1>{t('settings.title')}</h1>
      <EmailSection session={session} />
      <PasswordSection />
      <SecuritySection />
      {/* the new-sign-in e-mail links here (#sessions) */}
      <div id="sessions">
        <SessionsSection session={session} />
      </div>
      <PushSection session={session} />
      <MutesSection />
      <ExportSection />
      <DeleteAccountSection session={session} />
    </div>
  );
}
