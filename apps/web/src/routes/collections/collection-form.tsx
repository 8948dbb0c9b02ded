import { type FormEvent, type ReactNode, useId, useState } from 'react';
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

export interface CollectionFields {
  title: string;
  description: string;
  visibility: Visibility;
}

/**
 * A collection's title, description and visibility, for creating one and for editing it: submits
 * the trimmed values once the title is not blank and nothing is in flight.
 */
export function CollectionForm({
  initial,
  descriptionRows,
  className = 'stack',
  busy,
  submitLabel,
  busyLabel,
  error,
  onSubmit,
  children,
}: {
  initial: CollectionFields;
  descriptionRows: number;
  className?: string;
  busy: boolean;
  submitLabel: string;
  busyLabel: string;
  /** The server's refusal, shown above the buttons. */
  error?: ReactNode;
  onSubmit: (fields: CollectionFields) => void;
  /** More buttons after the submit button (e.g. cancel). */
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  const id = useId();
  const [title, setTitle] = useState(initial.title);
  const [description, setDescription] = useState(initial.description);
  const [visibility, setVisibility] = useState<Visibility>(initial.visibility);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (title.trim() && !busy) onSubmit({ title: title.trim(), description: description.trim(), visibility });
  };
  return (
    <form className={className} onSubmit={submit}>
      <div className="field">
        <label htmlFor={`${id}-title`}>{t('social.collections.titleLabel')}</label>
        <input
          id={`${id}-title`}
          required
          maxLength={120}
          value={title}
          onChange={(e) => setTitle(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-description`}>{t('social.collections.descriptionLabel')}</label>
        <textarea
          id={`${id}-description`}
          rows={descriptionRows}
          maxLength={2000}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </div>
      <VisibilityField value={visibility} onChange={setVisibility} />
      {error}
      <div className="row">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        {children}
      </div>
    </form>
  );
}
