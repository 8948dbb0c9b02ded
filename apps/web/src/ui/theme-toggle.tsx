import { useTranslation } from 'react-i18next';
import { applyTheme, nextTheme, useTheme } from '../theme/theme.ts';

export function ThemeToggle() {
  const { t } = useTranslation();
  const theme = useTheme();
  return (
    <button type="button" className="button ghost" onClick={() => applyTheme(nextTheme(theme))}>
      {t('theme.toggle', { theme: t(`theme.${theme}`) })}
    </button>
  );
}
