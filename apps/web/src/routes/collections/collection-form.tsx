import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { Visibility } from './collections-query.ts';

const VISIBILITIES: Visibility[] = ['public', 'friends', 'private'];

/** Who may see a collection. */
export function VisibilityField({
  value,
  onChange,
}: {
  value: Visibility;
  onChange: (value: Visibility) => void;
}) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{t('social.collections.visibilityLabel')}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as Visibility)}>
        {VISIBILITIES.map((v) => (
          <option key={v} value={v}>
            {t(`post.visibility.${v}`)}
          </option>
        ))}
      </select>
    </div>
  );
}
